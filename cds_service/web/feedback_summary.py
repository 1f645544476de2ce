"""``GET /cds-services/<id>/feedback/summary``: what clinicians did with each kind of card.

Feedback items are linked to the topic of the card they answer (the store records each issued
card's uuid with its topic). The summary counts accepted and overridden cards per topic and the
override reasons given, so a pharmacy and therapeutics committee can see which cards are ignored
and why. No PHI: no patient, no user, no comment text, no card uuids.

Example response::

    {"service": "jdm-ivig", "topics": [{"topic": "ivig-start", "accepted": 3, "overridden": 1,
     "overrideReasons": [{"code": "treated-elsewhere", "display": "Treated elsewhere",
     "count": 1}]}], "unlinked": 0}
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from cds_service.rules.findings import TOPIC_ORDER
from cds_service.web.state import state

feedback_summary_blueprint = Blueprint("feedback_summary", __name__)


@feedback_summary_blueprint.get("/cds-services/<service_id>/feedback/summary")
def feedback_summary(service_id: str) -> Response:
    app_state = state()
    service = app_state.registry.get(service_id)  # unknown id -> UnknownServiceError (404)
    return jsonify(summarise(service.id, app_state.store.feedback_counts(service.id)))


def summarise(service_id: str, counts: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold (topic, outcome, reason, count) rows into one entry per topic, in topic order."""
    topics: dict[str, dict[str, Any]] = {}
    unlinked = 0
    for row in counts:
        topic = row["topic"]
        if topic is None:
            unlinked += int(row["count"])
            continue
        entry = topics.setdefault(topic, {"topic": topic, "accepted": 0, "overridden": 0})
        outcome = row["outcome"]
        if outcome in ("accepted", "overridden"):
            entry[outcome] += int(row["count"])
        if outcome == "overridden" and row["override_reason_code"]:
            _add_reason(entry, row)
    ordered = sorted(topics.values(), key=lambda e: _topic_rank(e["topic"]))
    for entry in ordered:
        if "overrideReasons" in entry:
            entry["overrideReasons"].sort(key=lambda r: (-r["count"], r["code"]))
    return {"service": service_id, "topics": ordered, "unlinked": unlinked}


def _add_reason(entry: dict[str, Any], row: dict[str, Any]) -> None:
    reasons: list[dict[str, Any]] = entry.setdefault("overrideReasons", [])
    for reason in reasons:
        if reason["code"] == row["override_reason_code"]:
            reason["count"] += int(row["count"])
            return
    reason = {"code": row["override_reason_code"], "count": int(row["count"])}
    if row["override_reason_display"]:
        reason["display"] = row["override_reason_display"]
    reasons.append(reason)


def _topic_rank(topic: str) -> tuple[int, str]:
    return (TOPIC_ORDER.index(topic), "") if topic in TOPIC_ORDER else (len(TOPIC_ORDER), topic)
