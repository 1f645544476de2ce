"""One exception tree for everything a caller can get wrong, mapped to HTTP in one place.

Every error answer is a FHIR ``OperationOutcome`` (JSON, never HTML, never a stack trace)::

    {"resourceType": "OperationOutcome",
     "issue": [{"severity": "error", "code": "invalid", "diagnostics": "context.patientId: ..."}]}

Callers catch the class they mean: :class:`RequestError` for "the client sent something we cannot
use" (4xx), :class:`DataUnavailableError` for "the patient's data cannot be had" (412).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class CdsError(Exception):
    """Base of every error the service answers with a status code and an OperationOutcome."""

    status: ClassVar[int] = 500
    issue_code: ClassVar[str] = "exception"

    def __init__(self, diagnostics: str, *, extra_issues: tuple[str, ...] = ()) -> None:
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.extra_issues = extra_issues

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issue_code, self.diagnostics, *self.extra_issues)


class RequestError(CdsError):
    """The request itself is unusable (4xx); the client must change it."""

    status = 400
    issue_code = "invalid"


class MalformedJsonError(RequestError):
    """The body is not JSON at all."""

    issue_code = "structure"


class SchemaViolationError(RequestError):
    """The body is JSON but breaks the request schema; the diagnostics name the field."""

    issue_code = "invalid"


class WrongHookError(RequestError):
    """The request's ``hook`` is not the hook this service answers."""

    issue_code = "not-supported"


class UnknownServiceError(RequestError):
    status = 404
    issue_code = "not-found"


class BodyTooLargeError(RequestError):
    status = 413
    issue_code = "too-costly"


class UnsupportedMediaTypeError(RequestError):
    status = 415
    issue_code = "not-supported"


class NotAuthenticatedError(RequestError):
    """No or a bad CDS Hooks JWT (the trust layer raises it and adds WWW-Authenticate)."""

    status = 401
    issue_code = "login"


class DataUnavailableError(CdsError):
    """Data the service needs cannot be obtained: CDS Hooks says 412 Precondition Failed.

    ``missing`` lists the prefetch keys that could not be had, for the client to see.
    """

    status = 412
    issue_code = "incomplete"

    def __init__(self, diagnostics: str, *, missing: tuple[str, ...] = ()) -> None:
        super().__init__(diagnostics, extra_issues=tuple(f"missing: {key}" for key in missing))
        self.missing = missing


class FhirServerNotAllowedError(DataUnavailableError):
    """``fhirServer`` (or a link it returned) is not on the configured allowlist."""


class ServiceUnavailableError(CdsError):
    """The service cannot answer now (e.g. the store is down); the client may retry."""

    status = 503
    issue_code = "transient"


def operation_outcome(issue_code: str, diagnostics: str, *more: str) -> dict[str, Any]:
    issues = [{"severity": "error", "code": issue_code, "diagnostics": diagnostics}]
    issues += [{"severity": "information", "code": "informational", "diagnostics": m} for m in more]
    return {"resourceType": "OperationOutcome", "issue": issues}


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
