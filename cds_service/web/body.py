"""Reading a request body: JSON only, Unicode text, within the size and depth limits, or a
clear 4xx."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from cds_service.errors import BodyTooLargeError, MalformedJsonError, UnsupportedMediaTypeError
from cds_service.gather.limits import json_depth
from cds_service.web.state import state

JSON_MEDIA_TYPES = ("application/json",)
# a \uD800-\uDFFF escape, paired or not: only then is the parsed body checked for lone halves
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def json_body() -> Any:
    """The request's JSON body, or the specific 415/413/400 error."""
    if request.mimetype not in JSON_MEDIA_TYPES:
        shown = request.mimetype or "none"
        raise UnsupportedMediaTypeError(f"Content-Type must be application/json, not {shown}")
    limit = state().settings.max_body_bytes
    try:
        raw = request.get_data(cache=False)
        if request.content_length is None and len(raw) >= limit and _more_follows():
            raise RequestEntityTooLarge()
    except RequestEntityTooLarge as exc:
        raise BodyTooLargeError(f"request body larger than {limit} bytes") from exc
    if not raw:
        raise MalformedJsonError("request body is empty; a JSON object is expected")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise MalformedJsonError("request body nests too deeply") from exc
    except ValueError as exc:  # includes UnicodeDecodeError and json.JSONDecodeError
        raise MalformedJsonError(f"request body is not valid JSON: {_json_reason(exc)}") from exc
    if _SURROGATE_ESCAPE.search(raw) and _holds_lone_surrogate(body):
        raise MalformedJsonError(
            "request body holds text that is not Unicode (an unpaired surrogate escape)"
        )
    most = state().settings.max_json_depth
    if json_depth(body, stop_above=most) > most:
        raise MalformedJsonError(
            f"request body nests deeper than {most} levels (CDS_MAX_JSON_DEPTH)"
        )
    return body


def _more_follows() -> bool:
    """A chunked body (no Content-Length) is read up to the limit and no further (werkzeug's
    cap): whether the client sent more is only known by reading on. One more byte says so, and
    the body is then refused as too large, not cut at the limit and parsed (a 400 that hid the
    cause)."""
    return bool(request.environ["wsgi.input"].read(1))


def _holds_lone_surrogate(body: Any) -> bool:
    """JSON may escape half of a UTF-16 pair (``"\\ud800"``): Python keeps it as a string that
    no store, log or encoder can write as UTF-8. Checked only when the raw body has such an
    escape (rare), so the cost of a full pass is not paid on every call."""
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_reason(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno} column {error.colno}"
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8"
    return str(error)
