"""Oversized FHIR data for bench/heavy_calls.py, and a loopback FHIR server that serves it.

Every body is built once, as bytes, so the server can send gigabytes without spending the
benchmark's CPU on JSON:

- :func:`patient_with_identifiers`: one valid Patient holding `count` identifiers;
- :func:`big_page`: a searchset page of about `page_bytes`, 200 entries each with a long note,
  with a placeholder for its ``next`` link.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

NEXT_PLACEHOLDER = b"__NEXT_LINK__"
PAGE_ENTRIES = 200


def patient_with_identifiers(patient_id: str, count: int, *, with_system: bool) -> bytes:
    """A Patient whose ``identifier`` holds `count` entries (21 bytes each without a system)."""
    if with_system:
        one = b'{"system":"urn:oid:2.16.840.1.113883.2.1.4.1","value":"%010d"}'
    else:
        one = b'{"value":"%08d"}'
    identifiers = b",".join(one % index for index in range(count))
    head = b'{"resourceType":"Patient","id":"%s","gender":"female","birthDate":"2016-05-01",'
    return head % patient_id.encode() + b'"identifier":[' + identifiers + b"]}"


def big_page(resource_type: str, patient_id: str, page_bytes: int) -> bytes:
    """A searchset page of about `page_bytes` bytes: resources no value set matches, each with a
    long note (so the service fetches and holds them, then leaves them out)."""
    note = b"x" * max(1, page_bytes // PAGE_ENTRIES - 200)
    entry = (
        b'{"fullUrl":"urn:uuid:%d","resource":{"resourceType":"%s","id":"big-%d",'
        b'"status":"final","code":{"text":"bench padding"},'
        b'"subject":{"reference":"Patient/%s"},"note":[{"text":"%s"}]}}'
    )
    entries = b",".join(
        entry % (index, resource_type.encode(), index, patient_id.encode(), note)
        for index in range(PAGE_ENTRIES)
    )
    return (
        b'{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"'
        + NEXT_PLACEHOLDER
        + b'"}],"entry":['
        + entries
        + b"]}"
    )


@dataclass
class HeavyFhir:
    """What the server answers: the Patient read, and search pages (empty when no page)."""

    patient: bytes
    page: bytes | None = None
    max_pages: int = 20
    port: int = 0
    bytes_sent: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    def sent(self, size: int) -> None:
        with self.lock:
            self.bytes_sent += size
            self.requests += 1


EMPTY_SEARCHSET = b'{"resourceType":"Bundle","type":"searchset","entry":[]}'


@contextmanager
def heavy_fhir(state: HeavyFhir) -> Iterator[HeavyFhir]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            segments = [s for s in parts.path.split("/") if s]
            if len(segments) == 3 and segments[1] == "Patient":
                body = state.patient
            elif len(segments) == 2 and state.page is not None:
                body = self._page(segments[1], parts.query)
            else:
                body = EMPTY_SEARCHSET
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
                state.sent(len(body))
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _page(self, resource_type: str, query: str) -> bytes:
            page_number = int(parse_qs(query).get("_page", ["0"])[0])
            template = state.page or b""
            if page_number + 1 >= state.max_pages:
                return template.replace(
                    b'"link":[{"relation":"next","url":"' + NEXT_PLACEHOLDER + b'"}],', b""
                )
            link = f"{state.base_url}/{resource_type}?_page={page_number + 1}".encode()
            return template.replace(NEXT_PLACEHOLDER, link)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # the service hangs up on purpose (budgets, deadline): not worth a traceback

    server = Server(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
