"""``POST /cds-services/<id>/feedback``: what a clinician did with a card, checked and stored.

Body schema (400 naming the field) -> the cards it names, read from the store -> each item
checked against its card (:mod:`cds_service.store.feedback`: 400 naming the field) -> stored,
one outcome per card (a repeat replaces) -> ``{"stored": n}``. The store failing is a 503
(the client may retry); nothing a client can send makes it one.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from cds_service.errors import ServiceUnavailableError
from cds_service.store.database import StoreUnavailable
from cds_service.store.feedback import card_uuids, feedback_outcomes
from cds_service.web.body import json_body
from cds_service.web.openapi import validate
from cds_service.web.state import state

log = logging.getLogger(__name__)

feedback_blueprint = Blueprint("feedback", __name__)


@feedback_blueprint.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    app_state = state()
    service = app_state.registry.get(service_id)
    body = json_body()
    validate(body, "FeedbackRequest")
    try:
        issued = app_state.store.issued(card_uuids(body))
    except StoreUnavailable as failed:
        raise _unavailable(failed) from failed
    outcomes = feedback_outcomes(body, issued, service.id)
    try:
        stored = app_state.store.record_feedback(outcomes, app_state.clock())
    except StoreUnavailable as failed:
        raise _unavailable(failed) from failed
    return jsonify({"stored": stored})


def _unavailable(failed: StoreUnavailable) -> ServiceUnavailableError:
    log.error("could not store feedback: %s", failed)
    return ServiceUnavailableError("feedback could not be stored; try again")
