"""Every error leaves the app as a FHIR OperationOutcome: ours, werkzeug's, unexpected ones."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from cds_service.errors import CdsError, operation_outcome

log = logging.getLogger(__name__)

# werkzeug's own exceptions (unknown path, wrong method, body over MAX_CONTENT_LENGTH) keep their
# status; this maps them to an OperationOutcome issue code.
_HTTP_ISSUE_CODES = {
    400: "invalid",
    404: "not-found",
    405: "not-supported",
    413: "too-costly",
    415: "not-supported",
}


def _json_response(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Every error leaves the app as JSON: ours, werkzeug's, and unexpected ones (as a bare 500)."""

    @app.errorhandler(CdsError)
    def _cds_error(error: CdsError) -> Response:
        if error.status >= 500:
            log.error("service error %s: %s", type(error).__name__, error.diagnostics)
        return _json_response(error.status, error.outcome())

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = _HTTP_ISSUE_CODES.get(status, "exception")
        response = _json_response(status, operation_outcome(code, error.description or error.name))
        allowed = error.get_headers()
        for name, value in allowed:
            if name.lower() == "allow":
                response.headers["Allow"] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # The trace goes to the log (type and location only in the message); the client gets none.
        log.exception("unexpected error handling request: %s", type(error).__name__)
        return _json_response(500, operation_outcome("exception", "internal error"))
