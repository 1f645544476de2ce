"""The CDS Hooks endpoints: discovery, service calls, the OpenAPI document (feedback: feedback.py).

Request path of a service call: content type (415) -> service lookup (404) -> body size (413) ->
JSON (400) -> hook (400) -> schema (400, naming the field; for order-select / order-sign also
``context.draftOrders`` and ``context.selections``) -> prefetch ladder (412; a call that must
fetch takes a slot on its FHIR server, 412 when the process has its most calls on it) ->
``pipeline.evaluate`` (or ``orders.evaluate.evaluate_orders``) -> ``{"cards": [...]}``. Every
error is raised as a :mod:`cds_service.errors` class and leaves as an OperationOutcome.

One deadline covers the whole call (``request_deadline_s``), from its arrival: fetches end early
enough to leave ``evaluate_reserve_s`` for the rest, and each stage after them checks it (503
``timeout`` once past: no cards rather than cards decided on part of the record).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify

from cds_service.card_builder.wire import Card
from cds_service.errors import BodyTooLargeError, WrongHookError
from cds_service.gather.deadline import CallDeadline
from cds_service.gather.fhir_client import FhirCall
from cds_service.gather.limits import count_resources
from cds_service.gather.prefetch import gather
from cds_service.gather.registry import ORDER_HOOKS
from cds_service.orders.evaluate import evaluate_orders
from cds_service.pipeline import evaluate
from cds_service.store.feedback import issued_cards
from cds_service.web import metrics
from cds_service.web.audit import RequestAudit, current_audit
from cds_service.web.body import json_body
from cds_service.web.openapi import openapi_document, validate
from cds_service.web.order_context import draft_orders
from cds_service.web.state import state

log = logging.getLogger(__name__)

blueprint = Blueprint("cds_hooks", __name__)


@blueprint.get("/cds-services")
def discovery() -> Response:
    return jsonify(state().registry.discovery())


@blueprint.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    app_state = state()
    deadline = CallDeadline(app_state.settings.request_deadline_s)
    service = app_state.registry.get(service_id)
    body = json_body()
    if isinstance(body, dict) and isinstance(body.get("hook"), str):
        if body["hook"] != service.hook:
            raise WrongHookError(f"hook: service {service.id!r} answers {service.hook!r} only")
    validate(body, "HookRequest")
    audit = current_audit()
    if audit is not None:
        audit.service, audit.hook_instance = service.id, body["hookInstance"]
    _check_prefetch_size(body, app_state.settings.max_prefetch_resources)
    deadline.check("reading the request")

    context = body["context"]
    drafts = draft_orders(service.hook, context) if service.hook in ORDER_HOOKS else None
    gathered = gather(
        body,
        service,
        app_state.settings,
        _fhir_call_recorder(audit),
        deadline=deadline,
        fetch_slot=app_state.fhir_slots.hold,  # a few calls per FHIR server at most
    )
    metrics.record_prefetch(service.id, gathered.sources)
    deadline.check("gathering the record")
    fhir_server = server if isinstance(server := body.get("fhirServer"), str) else None
    if drafts is not None:
        evaluation = evaluate_orders(
            gathered.resources,
            drafts.to_check,
            drafts.resources,
            context["patientId"],
            app_state.knowledge,
            app_state.clock(),
            gather_notes=tuple(gathered.notes),
            fhir_server=fhir_server,
            public_base_url=app_state.settings.public_base_url,
        )
    else:
        evaluation = evaluate(
            gathered.resources,
            context["patientId"],
            app_state.knowledge,
            app_state.clock(),
            public_base_url=app_state.settings.public_base_url,
            gather_notes=tuple(gathered.notes),
            fhir_server=fhir_server,
            checkpoint=deadline.check,
        )
    _record_issued(evaluation.cards, service.id)
    metrics.record_cards(service.id, evaluation.cards)
    notes = [*gathered.notes, *gathered.client_notes]
    if audit is not None:
        audit.record_cards(evaluation.cards)
        audit.gather_notes = len(notes)
    return jsonify(_answer(evaluation.cards, notes))


GATHER_NOTES_EXTENSION = "org.jdm-cds.gather-notes"


def _fhir_call_recorder(audit: RequestAudit | None) -> Callable[[FhirCall], None]:
    """Each outbound FHIR call, as it ends: counted in the metrics and listed in the audit."""

    def record(call: FhirCall) -> None:
        metrics.record_fhir_call(call.resource_type, call.status, call.duration_ms / 1000)
        if audit is not None:
            audit.record_fhir_call(call.resource_type, call.status or "failed", call.duration_ms)

    return record


def _answer(cards: list[Card], notes: list[str]) -> dict[str, Any]:
    """``{"cards": [...]}``, plus the gather notes (PHI-free) when data was cut short or missing,
    or a prefetched value was not used.

    The notes go on the response even when no card had to mention them, e.g.
    ``"extension": {"org.jdm-cds.gather-notes": ["Observation search cut short after 20 pages"]}``
    or ``"Patient prefetch was a Bundle, not one Patient resource: fetched from the FHIR server
    instead"`` (a note of the second kind changes no card).
    """
    answer: dict[str, Any] = {"cards": cards}
    if notes:
        answer["extension"] = {GATHER_NOTES_EXTENSION: list(notes)}
    return answer


def _check_prefetch_size(body: dict[str, Any], most: int) -> None:
    prefetched = count_resources((body.get("prefetch") or {}).values())
    if prefetched > most:
        raise BodyTooLargeError(
            f"prefetch holds {prefetched} FHIR resources; this service takes at most {most} "
            "(CDS_MAX_PREFETCH_RESOURCES)"
        )


def _record_issued(cards: list[Card], service_id: str) -> None:
    app_state = state()
    try:
        app_state.store.record_issued_cards(issued_cards(cards), service_id, app_state.clock())
    except Exception as failed:  # the cards are still right; only the feedback link is lost
        log.error("could not record issued cards: %s", type(failed).__name__)


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
