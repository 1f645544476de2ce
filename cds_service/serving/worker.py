"""gunicorn's threaded worker, answering gunicorn's own errors in CDS Hooks' terms.

gunicorn refuses some requests before the app sees them (a request line or a header over its
limits, a malformed request line, an unsupported transfer coding) and answers those with an HTML
page of its own, quoting what it refused. This worker answers them with the app's error shape, a
FHIR ``OperationOutcome`` (JSON), keeping gunicorn's status, and logs the kind of error only: the
refused line can hold a patient id.

Used by ``cds_service/serving/gunicorn_conf.py`` (``worker_class``); behind the proxy
(deploy/nginx/) most such requests never get this far, and nginx answers them in the same shape.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from gunicorn.http import errors as http_errors
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import ThreadWorker

from cds_service.errors import operation_outcome

# gunicorn's request errors: status, reason phrase, OperationOutcome issue code, what to say
_REFUSALS: tuple[tuple[type[Exception], int, str, str, str], ...] = (
    (http_errors.LimitRequestLine, 414, "URI Too Long", "too-costly", "request line too long"),
    (
        http_errors.LimitRequestHeaders,
        431,
        "Request Header Fields Too Large",
        "too-costly",
        "request headers too long or too many",
    ),
    (
        http_errors.UnsupportedTransferCoding,
        501,
        "Not Implemented",
        "not-supported",
        "transfer coding not supported",
    ),
    (
        http_errors.ExpectationFailed,
        417,
        "Expectation Failed",
        "not-supported",
        "Expect header not supported",
    ),
    (http_errors.ForbiddenProxyRequest, 403, "Forbidden", "forbidden", "proxy request refused"),
    (
        http_errors.ConfigurationProblem,
        400,
        "Bad Request",
        "invalid",
        "request headers conflict with the request path",
    ),
)


def refusal_for(error: BaseException) -> tuple[int, str, str, str]:
    """(status, reason phrase, issue code, diagnostics) for an error gunicorn raised."""
    if isinstance(error, http_errors.InvalidResponseHeader | http_errors.InvalidResponseHeaderName):
        return 500, "Internal Server Error", "exception", "internal error"  # the app's fault
    for kind, status, reason, code, said in _REFUSALS:
        if isinstance(error, kind):
            return status, reason, code, said
    if isinstance(error, http_errors.ParseException | http_errors.NoMoreData):
        return 400, "Bad Request", "structure", "the HTTP request is malformed"
    return 500, "Internal Server Error", "exception", "internal error"


def error_response(status: int, reason: str, code: str, diagnostics: str) -> bytes:
    """A whole HTTP/1.1 response carrying an OperationOutcome; the connection closes after it."""
    body = json.dumps(operation_outcome(code, diagnostics), separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrorWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's gthread worker; only its own error answers differ."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: Exception) -> None:
        status, reason, code, said = refusal_for(exc)
        if status >= 500:
            self.log.error("error handling request: %s", type(exc).__name__, exc_info=exc)
        else:
            self.log.info("request refused by the server (%s): %s", status, type(exc).__name__)
        try:
            write_nonblock(client, error_response(status, reason, code, said))
        except OSError:
            self.log.debug("could not send the error answer")
