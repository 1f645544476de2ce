"""``GET /cds-services/<id>/feedback/summary``: what clinicians did with each kind of card.

Feedback items are linked to the topic of the card they answer (the store records each issued
card's uuid with its topic). The summary counts accepted and overridden cards per topic (one
outcome per card) and the override reasons given (only reasons the card offered can be stored),
so a pharmacy and therapeutics committee can see which cards are ignored and why. No PHI: no
patient, no user, no comment text, no card uuids. The database does the counting, grouped along
an index; folding its rows here is one pass, so the answer grows linearly with the number of
distinct reasons. ``unlinked`` counts outcomes of cards issued without a topic.

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
    """Fold (topic, outcome, reason, count) rows, counted by the database, into one entry per
    topic, in topic order: one pass over the rows, then each topic's reasons sorted once."""
    topics: dict[str, dict[str, Any]] = {}
    reasons: dict[str, dict[str, dict[str, Any]]] = {}  # topic -> code -> reason entry
    unlinked = 0
    for row in counts:
        topic, outcome, count = row["topic"], row["outcome"], int(row["count"])
        if topic is None:
            unlinked += count
            continue
        entry = topics.setdefault(topic, {"topic": topic, "accepted": 0, "overridden": 0})
        if outcome in ("accepted", "overridden"):
            entry[outcome] += count
        code = row["override_reason_code"]
        if outcome == "overridden" and code:
            reason = reasons.setdefault(topic, {}).setdefault(code, {"code": code, "count": 0})
            reason["count"] += count
            if row["override_reason_display"]:
                reason["display"] = row["override_reason_display"]
    ordered = sorted(topics.values(), key=lambda e: _topic_rank(e["topic"]))
    for entry in ordered:
        if entry["topic"] in reasons:
            listed = reasons[entry["topic"]].values()
            entry["overrideReasons"] = sorted(listed, key=lambda r: (-r["count"], r["code"]))
    return {"service": service_id, "topics": ordered, "unlinked": unlinked}


def _topic_rank(topic: str) -> tuple[int, str]:
    return (TOPIC_ORDER.index(topic), "") if topic in TOPIC_ORDER else (len(TOPIC_ORDER), topic)
