"""``GET /cds-services/<id>/feedback/summary``: what clinicians did with each kind of card.

Feedback items are linked to the topic of the card they answer (the store records each issued
card's uuid with its topic). The summary counts accepted and overridden cards per topic (one
outcome per card) and the override reasons given (only reasons the card offered can be stored),
so a pharmacy and therapeutics committee can see which cards are ignored and why. No PHI: no
patient, no user, no comment text, no card uuids. The database counts, grouped along an
index, and writes each topic's reasons as JSON (cds_service/store/summary.py); this module only
puts the topics in order, so its work does not grow with the number of reasons. ``unlinked``
counts outcomes of cards issued without a topic.

Example response::

    {"service": "jdm-ivig", "topics": [{"topic": "ivig-start", "accepted": 3, "overridden": 1,
     "overrideReasons": [{"code": "treated-elsewhere", "display": "Treated elsewhere",
     "count": 1}]}], "unlinked": 0}
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import Blueprint, Response

from cds_service.rules.findings import TOPIC_ORDER
from cds_service.store.summary import TopicSummary
from cds_service.web.state import state

feedback_summary_blueprint = Blueprint("feedback_summary", __name__)


@feedback_summary_blueprint.get("/cds-services/<service_id>/feedback/summary")
def feedback_summary(service_id: str) -> Response:
    app_state = state()
    service = app_state.registry.get(service_id)  # unknown id -> UnknownServiceError (404)
    body = summary_json(service.id, app_state.store.feedback_summary(service.id))
    return Response(body, mimetype="application/json")


def summary_json(service_id: str, topics: Iterable[TopicSummary]) -> str:
    """The summary document: topics in topic order, each topic's reasons as the database
    wrote them (embedded, not parsed again: at 40,000 reasons parsing and writing them here
    cost more than the database's counting); ``unlinked`` for cards without a topic."""
    unlinked = 0
    entries: list[tuple[tuple[int, str], str]] = []
    for topic in topics:
        if topic.topic is None:
            unlinked += topic.accepted + topic.overridden
            continue
        head = json.dumps(
            {"topic": topic.topic, "accepted": topic.accepted, "overridden": topic.overridden}
        )
        if topic.reasons_json != "[]":
            head = f'{head[:-1]}, "overrideReasons": {topic.reasons_json}}}'
        entries.append((_topic_rank(topic.topic), head))
    listed = ", ".join(entry for _rank, entry in sorted(entries))
    return f'{{"service": {json.dumps(service_id)}, "topics": [{listed}], "unlinked": {unlinked}}}'


def _topic_rank(topic: str) -> tuple[int, str]:
    return (TOPIC_ORDER.index(topic), "") if topic in TOPIC_ORDER else (len(TOPIC_ORDER), topic)
