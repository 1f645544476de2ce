"""Liveness and readiness in one place: ``/healthz``, ``/healthz/ready`` and ``/readyz``.

Liveness is 200 while the process answers. Readiness is 200 when the knowledge base is loaded
(``create_app`` refuses to start without a valid one) and the store answers, else 503.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from cds_service.web.state import state

health_blueprint = Blueprint("health", __name__)


@health_blueprint.get("/healthz")
def health() -> Response:
    return jsonify(health_report())


@health_blueprint.get("/healthz/ready")
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


@health_blueprint.get("/readyz")
def readyz() -> Response:
    """200 when the knowledge base is loaded and the store answers; 503 otherwise."""
    report = health_report()
    checks = {"knowledge": report["knowledge"], "database": report["database"]}
    ready = bool(report["ready"])
    response = jsonify({"ready": ready, "checks": checks})
    response.status_code = 200 if ready else 503
    return response
