"""One exception tree for everything a caller can get wrong; each class carries its HTTP status.

::

    CdsError (500, exception)                 base: status + OperationOutcome issue code
    ├── RequestError (400, invalid)           the client must change the request
    │   ├── MalformedJsonError (400, structure)      the body is not JSON
    │   ├── SchemaViolationError (400, invalid)      breaks the schema; names the field
    │   ├── WrongHookError (400, not-supported)      a hook this service does not answer
    │   ├── ForbiddenError (403, forbidden)          this client may not use this path
    │   ├── UnknownServiceError (404, not-found)
    │   ├── BodyTooLargeError (413, too-costly)
    │   └── UnsupportedMediaTypeError (415, not-supported)
    ├── DataUnavailableError (412, incomplete)  the patient's data cannot be had
    │   ├── FhirServerNotAllowedError (412)       fhirServer (or a link) not allowlisted
    │   └── FhirServerBusyError (412)             too many calls already fetching from it
    ├── ServiceUnavailableError (503, transient) the store is down; the client may retry
    └── DeadlinePassedError (503, timeout)     the call ran past CDS_REQUEST_DEADLINE_S

Authentication failures (401) are answered by :mod:`cds_service.web.auth.tokens` before a
handler runs. :mod:`cds_service.web.errors` turns every one of these, werkzeug's own errors and
anything unexpected into a FHIR ``OperationOutcome`` (JSON, never HTML, never a stack trace)::

    {"resourceType": "OperationOutcome",
     "issue": [{"severity": "error", "code": "invalid", "diagnostics": "context.patientId: ..."}]}
"""

from __future__ import annotations

from typing import Any, ClassVar


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


class ForbiddenError(RequestError):
    """The client may not use this path from where it is (a browser origin not in
    CDS_CORS_ORIGINS with auth off, ``/metrics`` from off loopback); the diagnostics name the
    setting."""

    status = 403
    issue_code = "forbidden"


class UnknownServiceError(RequestError):
    status = 404
    issue_code = "not-found"


class BodyTooLargeError(RequestError):
    status = 413
    issue_code = "too-costly"


class UnsupportedMediaTypeError(RequestError):
    status = 415
    issue_code = "not-supported"


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


class FhirServerBusyError(DataUnavailableError):
    """This process already has its most calls fetching from ``fhirServer``: answered at once
    instead of queueing a thread behind a server that may be slow."""


class ServiceUnavailableError(CdsError):
    """The service cannot answer now (e.g. the store is down); the client may retry."""

    status = 503
    issue_code = "transient"


class DeadlinePassedError(CdsError):
    """The call's work did not finish before its deadline: no cards rather than cards decided
    on part of the record. The diagnostics say which stage was cut."""

    status = 503
    issue_code = "timeout"


def operation_outcome(issue_code: str, diagnostics: str, *more: str) -> dict[str, Any]:
    """The one OperationOutcome builder: an error issue, then informational ones (``more``)."""
    issues = [{"severity": "error", "code": issue_code, "diagnostics": diagnostics}]
    issues += [{"severity": "information", "code": "informational", "diagnostics": m} for m in more]
    return {"resourceType": "OperationOutcome", "issue": issues}
