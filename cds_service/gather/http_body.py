"""Reading an HTTP response body from a server we do not control: capped, and inside a deadline.

Shared by the FHIR client and the JWKS fetch. The body is read with urllib3's ``read1`` (what
has arrived, at once): a read of a whole chunk would wait for the chunk, and a server sending a
byte inside each read timeout could then hold the thread for as long as it liked. Between
arrivals the size cap and the deadline are checked, so a read ends at most one socket read
timeout after the deadline.
"""

from __future__ import annotations

from collections.abc import Callable

import requests
import urllib3

_READ_BYTES = 16_384


class BodyTooLarge(Exception):
    """More than the cap arrived."""


class BodyDeadlinePassed(Exception):
    """The deadline passed before the body was whole."""


class BodyBroken(Exception):
    """The connection failed or timed out mid-body (``timed_out`` tells which)."""

    def __init__(self, timed_out: bool):
        super().__init__("timed out" if timed_out else "broken off")
        self.timed_out = timed_out


def read_body(
    response: requests.Response,
    cap: int,
    expired: Callable[[], bool],
    on_arrival: Callable[[int], None] | None = None,
) -> bytes:
    """The whole body of a ``stream=True`` response, or one of the exceptions above.

    ``on_arrival`` is told the size of each piece as it arrives (a budget shared by several
    reads); whatever it raises ends the read.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = response.raw.read1(_READ_BYTES, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise BodyBroken(timed_out=True) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise BodyBroken(timed_out=False) from exc
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge
        if on_arrival is not None:
            on_arrival(len(chunk))
        if expired():
            raise BodyDeadlinePassed
        chunks.append(chunk)
