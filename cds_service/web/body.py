"""Reading a request body: JSON only, Unicode text, within the size and depth limits, or a
clear 4xx.

- a body over ``max_body_bytes`` is a 413, whether its length was announced or it came in
  chunks (a chunked body is read up to one byte past the limit, never cut to fit and parsed);
- a body that is not UTF-8 JSON, or whose text holds a lone UTF-16 surrogate (``"\\ud800"``:
  valid JSON syntax, but no character; I-JSON, RFC 7493, refuses it and no database can store
  it), is a 400;
- a body that may hold more than ``max_body_json_containers`` objects and arrays (every ``{`` and
  ``[`` counted on the bytes, before parsing, which costs memory by the object) is a 413;
- nesting deeper than ``max_json_depth`` is a 400, outside the prefetched FHIR resources: those are
  held to the same depth one by one when gathered, with the other per-resource limits, and one
  past it is left out with a note (:mod:`cds_service.gather.limits`; one walk over the chart).
"""

from __future__ import annotations

import json
import re
from typing import IO, Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from cds_service.errors import BodyTooLargeError, MalformedJsonError, UnsupportedMediaTypeError
from cds_service.gather.limits import json_depth, without_resources
from cds_service.web.state import state

JSON_MEDIA_TYPES = ("application/json",)
_READ_BYTES = 1 << 20
# \uD800-\uDFFF written as a JSON escape: the only way a surrogate gets into parsed text (raw
# surrogate bytes are not UTF-8 and fail decoding). Pairs are joined by the parser; a match
# here only says the parsed strings must be looked at.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def json_body() -> Any:
    """The request's JSON body, or the specific 415/413/400 error."""
    if request.mimetype not in JSON_MEDIA_TYPES:
        shown = request.mimetype or "none"
        raise UnsupportedMediaTypeError(f"Content-Type must be application/json, not {shown}")
    limit = state().settings.max_body_bytes
    raw = _raw_body(limit)
    if not raw:
        raise MalformedJsonError("request body is empty; a JSON object is expected")
    _check_containers(raw, state().settings.max_body_json_containers)
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise MalformedJsonError("request body nests too deeply") from exc
    except ValueError as exc:  # includes UnicodeDecodeError and json.JSONDecodeError
        raise MalformedJsonError(f"request body is not valid JSON: {_json_reason(exc)}") from exc
    most = state().settings.max_json_depth
    if json_depth(_without_prefetched_resources(body), stop_above=most) > most:
        raise MalformedJsonError(
            f"request body nests deeper than {most} levels (CDS_MAX_JSON_DEPTH)"
        )
    if _SURROGATE_ESCAPE.search(raw) and _holds_lone_surrogate(body):
        raise MalformedJsonError(
            "request body holds text that is not Unicode: a string holds a lone UTF-16 "
            "surrogate (an escape such as \\ud800 without its pair)"
        )
    return body


def _without_prefetched_resources(body: Any) -> Any:
    """The body less its prefetched FHIR resources, which gathering screens one by one."""
    prefetch = body.get("prefetch") if type(body) is dict else None
    if type(prefetch) is not dict:
        return body
    return {**body, "prefetch": {key: without_resources(value) for key, value in prefetch.items()}}


def _raw_body(limit: int) -> bytes:
    """The body, at most `limit` bytes; 413 past it, announced or not."""
    too_large = BodyTooLargeError(f"request body larger than {limit} bytes (CDS_MAX_BODY_BYTES)")
    if request.content_length is not None:
        try:
            return request.get_data(cache=False)  # werkzeug refuses a length over the limit
        except RequestEntityTooLarge as exc:
            raise too_large from exc
    # No length: a chunked body, read here rather than by werkzeug, whose limit cuts the body
    # at the limit and hands over the part as if it were all.
    if not request.environ.get("wsgi.input_terminated"):
        return b""  # the server cannot tell where such a body ends: none is read
    stream: IO[bytes] = request.environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(min(_READ_BYTES, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise too_large
    return b"".join(chunks)


def _check_containers(raw: bytes, most: int) -> None:
    """413 when `raw` may hold more than `most` JSON objects and arrays: counted on the bytes (a
    few milliseconds for 32 MiB), so a body of a million tiny objects is refused before parsing
    builds them. Brackets inside strings count too: the count is an upper bound."""
    upper_bound = raw.count(b"{") + raw.count(b"[")
    if upper_bound > most:
        raise BodyTooLargeError(
            f"request body holds more than {most} JSON objects and arrays "
            "(CDS_MAX_BODY_JSON_CONTAINERS)"
        )


def _holds_lone_surrogate(value: Any) -> bool:
    """True when a string (or object key) anywhere in `value` holds a surrogate code point."""
    pending = [value]
    while pending:
        node = pending.pop()
        if type(node) is str:
            if not node.isascii() and _has_surrogate(node):
                return True
        elif type(node) is dict:
            pending.extend(node.keys())
            pending.extend(node.values())
        elif type(node) is list:
            pending.extend(node)
    return False


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
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
