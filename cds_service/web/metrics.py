"""Prometheus metrics at ``/metrics`` and readiness at ``/readyz``.

What is counted (label values are bounded: service ids from the registry, HTTP status codes,
card topics from the knowledge base, FHIR resource types; never a patient id or a URL):

- ``jdm_cds_http_requests_total`` / ``jdm_cds_http_request_duration_seconds``: every request,
  by ``service`` (the CDS service id, or the endpoint name for discovery, health, ...) and
  ``status``;
- ``jdm_cds_cards_total``: cards returned, by service and ``topic`` (``source.topic.code``);
- ``jdm_cds_prefetch_keys_total``: per prefetch key of a call, ``hit`` (sent by the client),
  ``fetched`` (a miss we fetched), ``null`` (sent as null) or ``unavailable`` (a miss we could
  not fetch);
- ``jdm_cds_fhir_call_duration_seconds`` and ``jdm_cds_fhir_call_errors_total``: outbound FHIR
  calls by resource type, errors by resource type and status (``none`` when no answer came).

Under gunicorn, ``cds_service/serving/gunicorn_conf.py`` sets ``PROMETHEUS_MULTIPROC_DIR``
before any worker imports this module, so each worker writes its samples to files there and
``/metrics`` sums all workers (prometheus-client's multiprocess mode). Without it (tests, the
CLI) the metrics live in this process. Who may read them: :mod:`.metrics_access`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from cds_service.web.metrics_access import guard_metrics
from cds_service.web.state import state

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# latency buckets around the spec's "on the order of 500 ms"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0)

REQUESTS = Counter("jdm_cds_http_requests_total", "HTTP requests answered", ["service", "status"])
REQUEST_SECONDS = Histogram(
    "jdm_cds_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "status"],
    buckets=LATENCY_BUCKETS,
)
CARDS = Counter("jdm_cds_cards_total", "Cards returned", ["service", "topic"])
PREFETCH_KEYS = Counter(
    "jdm_cds_prefetch_keys_total",
    "Prefetch keys of service calls, by how their data was had",
    ["service", "outcome"],
)
FHIR_CALL_SECONDS = Histogram(
    "jdm_cds_fhir_call_duration_seconds",
    "Outbound FHIR HTTP calls",
    ["resource_type"],
    buckets=LATENCY_BUCKETS,
)
FHIR_CALL_ERRORS = Counter(
    "jdm_cds_fhir_call_errors_total",
    "Outbound FHIR HTTP calls that failed (no answer, or not 200)",
    ["resource_type", "status"],
)

# Gathered.sources values -> the outcome label
_PREFETCH_OUTCOMES = {
    "prefetch": "hit",
    "fetched": "fetched",
    "null": "null",
    "unavailable": "unavailable",
}
_KNOWN_RESOURCE_TYPES = frozenset(
    {
        "Patient", "Condition", "Observation", "MedicationRequest", "MedicationAdministration",
        "MedicationStatement", "Medication", "Procedure", "Immunization", "AllergyIntolerance",
    }
)  # fmt: skip

blueprint = Blueprint("operations", __name__)


def record_prefetch(service_id: str, sources: Mapping[str, str]) -> None:
    """Count each prefetch key of one call by how its data was had."""
    for source in sources.values():
        PREFETCH_KEYS.labels(service_id, _PREFETCH_OUTCOMES.get(source, "other")).inc()


def record_cards(service_id: str, cards: Iterable[Mapping[str, Any]]) -> None:
    for card in cards:
        topic = card.get("source", {}).get("topic", {}).get("code") or "none"
        CARDS.labels(service_id, str(topic)).inc()


def record_fhir_call(resource_type: str, status: int | None, seconds: float) -> None:
    """One outbound FHIR call (called by the FHIR client whether it succeeded or not)."""
    label = resource_type if resource_type in _KNOWN_RESOURCE_TYPES else "other"
    FHIR_CALL_SECONDS.labels(label).observe(seconds)
    if status != 200:
        FHIR_CALL_ERRORS.labels(label, "none" if status is None else str(status)).inc()


def _service_label(app: Flask) -> str:
    """The CDS service id for service and feedback calls, else the endpoint's name."""
    service_id = (request.view_args or {}).get("service_id")
    if isinstance(service_id, str):
        services = app.extensions["jdm_cds"].registry.services
        known = any(service.id == service_id for service in services)
        return service_id if known else "unknown-service"
    endpoint = request.endpoint or "unrouted"
    return endpoint.rsplit(".", 1)[-1]


def init_app(app: Flask) -> None:
    """Time every request and add ``/metrics`` and ``/readyz``."""

    @app.before_request
    def _start_timer() -> None:
        g.jdm_cds_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.get("jdm_cds_started")
        if started is not None:
            service, status = _service_label(app), str(response.status_code)
            REQUESTS.labels(service, status).inc()
            REQUEST_SECONDS.labels(service, status).observe(time.perf_counter() - started)
        return response

    app.register_blueprint(blueprint)


@blueprint.get("/metrics")
def metrics() -> Response:
    guard_metrics(state().settings.metrics_access)  # 403/404 unless CDS_METRICS_ACCESS allows
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def mark_worker_dead(pid: int) -> None:
    """gunicorn ``child_exit`` hook: drop a dead worker's live gauges (multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
