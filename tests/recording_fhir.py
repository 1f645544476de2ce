"""A loopback HTTP server that records every request and answers from a handler (a real socket).

    with RecordingServer(lambda path: (200, {"resourceType": "Bundle", ...})) as server:
        ... server.base_url ...; server.requests  # [(path_with_query, headers), ...]

The handler gets the path with its query string and returns (status, JSON body); ``delay_s``
makes every answer late (a slow server, not a mock of one). A request counts as in flight from its
arrival until its answer starts: the client cannot send its next request before that, so
``max_in_flight`` never counts one request's tail together with the next one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Handler = Callable[[str], tuple[int, Any]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # a real server's listen backlog (socketserver's is 5): the service fetches nine keys at once,
    # and a SYN dropped from a full backlog is retried only after a second
    request_queue_size = 128


def empty_searchset(path: str) -> tuple[int, Any]:
    if path.split("?")[0].rstrip("/").split("/")[-2:-1] == ["Patient"]:
        return 200, {"resourceType": "Patient", "id": path.split("?")[0].rsplit("/", 1)[-1]}
    return 200, {"resourceType": "Bundle", "type": "searchset", "total": 0}


class RecordingServer:
    def __init__(self, handler: Handler = empty_searchset, *, delay_s: float = 0.0) -> None:
        self.handler = handler
        self.delay_s = delay_s
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being answered at once
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/fhir"

    def paths(self) -> list[str]:
        with self._lock:
            return [path for path, _headers in self.requests]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            _counted = False

            def do_GET(self) -> None:
                with owner._lock:
                    owner.requests.append((self.path, dict(self.headers.items())))
                    owner.in_flight += 1
                    owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
                self._counted = True
                try:
                    self._answer()
                finally:
                    self._done()

            def _done(self) -> None:
                if self._counted:
                    self._counted = False
                    with owner._lock:
                        owner.in_flight -= 1

            def _answer(self) -> None:
                if owner.delay_s:
                    time.sleep(owner.delay_s)
                status, body = owner.handler(self.path)
                payload = json.dumps(body).encode()
                self._done()  # before the answer starts: see the module doc string
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/fhir+json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its deadline): that is the point of a slow server

            def log_message(self, format: str, *args: Any) -> None:
                return

        return _Handler

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
