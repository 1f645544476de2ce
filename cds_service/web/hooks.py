"""The HTTP surface: discovery, service calls, feedback, the OpenAPI document, health.

Request path of a service call: content type (415) -> service lookup (404) -> body size (413) ->
JSON (400) -> hook (400) -> schema (400, naming the field) -> prefetch ladder (412) ->
``pipeline.evaluate`` -> ``{"cards": [...]}``. Every error is raised as a
:mod:`cds_service.errors` class and leaves as an OperationOutcome.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from cds_service.card_builder.wire import Card
from cds_service.errors import (
    BodyTooLargeError,
    MalformedJsonError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
    WrongHookError,
)
from cds_service.gather.fhir_client import FhirCall
from cds_service.gather.limits import count_resources, json_depth
from cds_service.gather.prefetch import gather
from cds_service.pipeline import evaluate
from cds_service.store.database import IssuedCard
from cds_service.store.feedback import feedback_records, issued_topics
from cds_service.web import metrics
from cds_service.web.audit import RequestAudit, current_audit
from cds_service.web.openapi import openapi_document, validate
from cds_service.web.state import state

log = logging.getLogger(__name__)

blueprint = Blueprint("cds_hooks", __name__)

JSON_MEDIA_TYPES = ("application/json",)
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


def install_cors(app: Flask) -> None:
    """CORS on every path and every answer (errors included); preflight answered before auth."""

    @app.before_request
    def _preflight() -> Response | None:
        if request.method == "OPTIONS":
            preflight = Response(status=204)
            del preflight.headers["Content-Type"]
            return preflight
        return None

    @app.after_request
    def _cors(response: Response) -> Response:
        response.headers.update(CORS_HEADERS)
        return response


@blueprint.get("/cds-services")
def discovery() -> Response:
    return jsonify(state().registry.discovery())


@blueprint.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    app_state = state()
    service = app_state.registry.get(service_id)
    body = _json_body()
    if isinstance(body, dict) and isinstance(body.get("hook"), str):
        if body["hook"] != service.hook:
            raise WrongHookError(f"hook: service {service.id!r} answers {service.hook!r} only")
    validate(body, "HookRequest")
    audit = current_audit()
    if audit is not None:
        audit.service, audit.hook_instance = service.id, body["hookInstance"]
    _check_prefetch_size(body, app_state.settings.max_prefetch_resources)

    gathered = gather(body, service, app_state.settings, on_fhir_call=_fhir_call_recorder(audit))
    metrics.record_prefetch(service.id, gathered.sources)
    context = body["context"]
    evaluation = evaluate(
        gathered.resources,
        context["patientId"],
        app_state.knowledge,
        app_state.clock(),
        public_base_url=app_state.settings.public_base_url,
        gather_notes=tuple(gathered.notes),
    )
    _record_issued(evaluation.cards, service.id)
    metrics.record_cards(service.id, evaluation.cards)
    if audit is not None:
        audit.record_cards(evaluation.cards)
        audit.gather_notes = len(gathered.notes)
    return jsonify(_answer(evaluation.cards, gathered.notes))


GATHER_NOTES_EXTENSION = "org.jdm-cds.gather-notes"


def _fhir_call_recorder(audit: RequestAudit | None) -> Callable[[FhirCall], None]:
    """Each outbound FHIR call, as it ends: counted in the metrics and listed in the audit."""

    def record(call: FhirCall) -> None:
        metrics.record_fhir_call(call.resource_type, call.status, call.duration_ms / 1000)
        if audit is not None:
            audit.record_fhir_call(call.resource_type, call.status or "failed", call.duration_ms)

    return record


def _answer(cards: list[Card], notes: list[str]) -> dict[str, Any]:
    """``{"cards": [...]}``, plus the gather notes (PHI-free) when data was cut short or missing.

    The notes go on the response even when no card had to mention them, e.g.
    ``"extension": {"org.jdm-cds.gather-notes": ["Observation search cut short after 20 pages"]}``.
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
    issued = [IssuedCard(uuid, topic) for uuid, topic in issued_topics(cards)]
    try:
        app_state.store.record_issued_cards(issued, service_id, app_state.clock())
    except Exception as failed:  # the cards are still right; only the feedback link is lost
        log.error("could not record issued cards: %s", type(failed).__name__)


@blueprint.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    app_state = state()
    service = app_state.registry.get(service_id)
    body = _json_body()
    validate(body, "FeedbackRequest")
    records = feedback_records(body)
    try:
        stored = app_state.store.record_feedback(records, service.id, app_state.clock())
    except Exception as failed:
        log.error("could not store feedback: %s", type(failed).__name__)
        raise ServiceUnavailableError("feedback could not be stored; try again") from failed
    return jsonify({"stored": stored})


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@blueprint.get("/healthz")
def health() -> Response:
    return jsonify(health_report())


@blueprint.get("/healthz/ready")
def ready() -> Response:
    report = health_report()
    response = jsonify(report)
    response.status_code = 200 if report["ready"] else 503
    return response


def health_report() -> dict[str, Any]:
    """Liveness and readiness in one place (also behind ``/readyz``)."""
    app_state = state()
    database_ok = app_state.store.ping()
    # create_app refuses to start without a valid knowledge base, so a running app has one
    return {
        "live": True,
        "ready": database_ok,
        "knowledge": "loaded",
        "database": "ok" if database_ok else "error",
    }


def _json_body() -> Any:
    """The request's JSON body, or the specific 415/413/400 error."""
    if request.mimetype not in JSON_MEDIA_TYPES:
        shown = request.mimetype or "none"
        raise UnsupportedMediaTypeError(f"Content-Type must be application/json, not {shown}")
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge as exc:
        limit = state().settings.max_body_bytes
        raise BodyTooLargeError(f"request body larger than {limit} bytes") from exc
    if not raw:
        raise MalformedJsonError("request body is empty; a JSON object is expected")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise MalformedJsonError("request body nests too deeply") from exc
    except ValueError as exc:  # includes UnicodeDecodeError and json.JSONDecodeError
        raise MalformedJsonError(f"request body is not valid JSON: {_json_reason(exc)}") from exc
    most = state().settings.max_json_depth
    if json_depth(body, stop_above=most) > most:
        raise MalformedJsonError(
            f"request body nests deeper than {most} levels (CDS_MAX_JSON_DEPTH)"
        )
    return body


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_reason(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno} column {error.colno}"
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8"
    return str(error)
