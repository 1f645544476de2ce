"""A tiny FHIR server that misbehaves on purpose, for fault tests (a real socket, not a mock).

It serves one patient's resources (given as a transaction or collection Bundle) as FHIR R4
search results under ``/fhir``, paged like a real server, and records every connection and
request (path, query, Authorization header). A fault can be set for all resource types
(``"*"``) or per type (``{"Observation": "500"}``):

===============  ===================================================================
fault            what the server does
===============  ===================================================================
``ok``           answers properly (paged searchset Bundles, Patient reads)
``slow``         sleeps ``delay_s`` before answering properly
``trickle``      answers properly, one byte of the body every ``trickle_interval_s`` (each
                 byte well inside a read timeout); records when the client hung up
``500``/``429``  answers that status with an OperationOutcome
``html``         answers 200 with an HTML page (a proxy's login page, say)
``truncated``    answers 200 with the first half of the JSON body
``huge``         answers 200 with a JSON body of ``huge_bytes`` bytes
``other-patient`` the searchset also holds resources of another patient
``next-loop``    every page's ``next`` link points back to the same page
``next-other-host`` the ``next`` link points to ``other_base`` (another server)
``redirect-other-host`` answers 302 to the same path on ``other_base``
``redirect-same`` answers 302 to the same URL with ``_redirected=1`` (then answers ok)
``wrong-type``   answers 200 with ``text/plain`` content that is valid FHIR JSON
===============  ===================================================================
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from slow_body import write_slowly

from fhir_fixtures import builders as fb

OTHER_PATIENT_ID = "other-patient-7f3a"
DEFAULT_PAGE_SIZE = 20
LISTEN_BACKLOG = 128


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None


@dataclass
class MisbehavingFhir:
    """Start with :func:`misbehaving_fhir`; change `faults` between requests as needed."""

    host: str = "127.0.0.1"
    faults: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    huge_bytes: int = 2_000_000
    trickle_interval_s: float = 0.25
    hung_up_at: list[float] = field(default_factory=list)  # time.monotonic() of each hang-up
    hung_up: threading.Event = field(default_factory=threading.Event)  # set at the first
    other_base: str = "http://127.0.0.2:9/fhir"
    resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    connections: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # local addresses of our own probe connections, and those the server has taken in
    _probes: set[tuple[str, int]] = field(default_factory=set)
    _probes_seen: set[tuple[str, int]] = field(default_factory=set)
    _accepted: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._accepted = threading.Condition(self._lock)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/fhir"

    def load(self, bundle: Mapping[str, Any]) -> None:
        """Serve the resources of a transaction/collection Bundle."""
        for entry in bundle.get("entry", []):
            resource = entry["resource"]
            self.resources.setdefault(resource["resourceType"], []).append(resource)

    def fault_for(self, resource_type: str) -> str:
        return self.faults.get(resource_type, self.faults.get("*", "ok"))

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def accept(self, client_address: tuple[str, int]) -> bool:
        """Count a connection the server takes in; False for a probe (not served, not counted)."""
        address = (client_address[0], client_address[1])
        with self._accepted:
            if address in self._probes:
                self._probes_seen.add(address)
                self._accepted.notify_all()
                return False
            self.connections += 1
            return True

    def settled_connections(self, timeout_s: float = 10.0) -> int:
        """The connections made to this server so far, counted once it has taken in every one.

        The server takes connections in the order they arrive. A probe connection of our own
        joins the back of that queue, so once the server has seen the probe it has counted every
        connection made before it: an event to wait for, instead of sleeping and hoping a stray
        connection, had there been one, was counted in time.
        """
        with socket.socket() as probe:
            probe.bind((self.host, 0))
            address: tuple[str, int] = probe.getsockname()[:2]
            with self._accepted:
                self._probes.add(address)
            probe.connect((self.host, self.port))
            with self._accepted:
                if not self._accepted.wait_for(lambda: address in self._probes_seen, timeout_s):
                    raise TimeoutError(f"the server at {self.base_url} never took the probe in")
                return self.connections

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


@contextmanager
def misbehaving_fhir(
    host: str = "127.0.0.1", port: int = 0, **options: Any
) -> Iterator[MisbehavingFhir]:
    """Run a MisbehavingFhir on `port` of `host` (0: a free one) for the duration of the block."""
    state = MisbehavingFhir(host=host, **options)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        # a real server's listen backlog: with socketserver's 5, the service's nine fetches at
        # once overflow it whenever the accept loop lags, and a dropped SYN is retried after 1 s
        request_queue_size = LISTEN_BACKLOG

        def verify_request(self, request: Any, client_address: Any) -> bool:
            return state.accept(client_address)

    server = Server((host, port), _handler_for(state))
    state.port = server.server_address[1]
    # a short poll interval: shutdown() waits for the loop to look, and every test stops a server
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def connection_recorder(host: str = "127.0.0.1") -> Iterator[MisbehavingFhir]:
    """A server that must never be contacted: it counts connections and answers 500."""
    with misbehaving_fhir(host, faults={"*": "500"}) as state:
        yield state


def _handler_for(state: MisbehavingFhir) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        _in_flight = False

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read state.requests instead

        def do_GET(self) -> None:
            state.enter()
            self._in_flight = True
            try:
                self._get()
            finally:
                self._answered()

        def _answered(self) -> None:
            """No longer in flight once the answer starts: the client cannot send its next
            request before, so `most_in_flight` never counts one call's tail with the next."""
            if self._in_flight:
                self._in_flight = False
                state.leave()

        def send_response(self, code: int, message: str | None = None) -> None:
            self._answered()
            super().send_response(code, message)

        def _get(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            state.record(
                RecordedRequest("GET", parts.path, query, self.headers.get("Authorization"))
            )
            segments = [s for s in parts.path.split("/") if s]
            if len(segments) < 2 or segments[0] != "fhir":
                self._send_json(404, _outcome("not-found", "no such path"))
                return
            resource_type = segments[1]
            fault = state.fault_for(resource_type)
            if fault == "redirect-same" and "_redirected" in query:
                fault = "ok"
            self._answer(fault, resource_type, segments[2:], parts.path, query)

        def _answer(
            self,
            fault: str,
            resource_type: str,
            rest: list[str],
            path: str,
            query: dict[str, list[str]],
        ) -> None:
            if fault == "slow":
                time.sleep(state.delay_s)
            if fault in ("500", "429"):
                headers = {"Retry-After": "30"} if fault == "429" else {}
                self._send_json(int(fault), _outcome("transient", "simulated failure"), headers)
            elif fault == "html":
                self._send(200, b"<html><body>Please sign in</body></html>", "text/html")
            elif fault == "huge":
                padding = " " * state.huge_bytes
                body = '{"resourceType":"Bundle","type":"searchset",' + padding + '"entry":[]}'
                self._send(200, body.encode(), "application/fhir+json")
            elif fault.startswith("redirect-"):
                target_base = state.other_base if fault == "redirect-other-host" else state.base_url
                extra = "" if fault == "redirect-other-host" else "&_redirected=1"
                location = (
                    target_base
                    + path.removeprefix("/fhir")
                    + "?"
                    + urlencode(query, doseq=True)
                    + extra
                )
                self._send(302, b"", "text/plain", {"Location": location})
            else:
                body = self._resource_body(resource_type, rest, query, fault)
                if body is None:
                    self._send_json(404, _outcome("not-found", "no such resource"))
                    return
                encoded = json.dumps(body).encode()
                if fault == "truncated":
                    encoded = encoded[: len(encoded) // 2]
                content_type = "text/plain" if fault == "wrong-type" else "application/fhir+json"
                if fault == "trickle":
                    self._trickle(encoded, content_type)
                else:
                    self._send(200, encoded, content_type)

        def _trickle(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not write_slowly(self.wfile, body, state.trickle_interval_s):
                with state._lock:
                    state.hung_up_at.append(time.monotonic())
                state.hung_up.set()

        def _resource_body(
            self, resource_type: str, rest: list[str], query: dict[str, list[str]], fault: str
        ) -> dict[str, Any] | None:
            stored = state.resources.get(resource_type, [])
            if rest:  # a read: /fhir/Patient/<id>
                found = [r for r in stored if r.get("id") == rest[0]]
                return copy.deepcopy(found[0]) if found else None
            matches = copy.deepcopy(stored)
            if fault == "other-patient" and matches:
                intruder = copy.deepcopy(matches[0])
                intruder["id"] = "intruder-" + str(intruder.get("id", "x"))
                _set_subject(intruder, OTHER_PATIENT_ID)
                matches.append(intruder)
            return self._searchset(resource_type, matches, query, fault)

        def _searchset(
            self,
            resource_type: str,
            matches: list[dict[str, Any]],
            query: dict[str, list[str]],
            fault: str,
        ) -> dict[str, Any]:
            page_size = int(query.get("_count", [DEFAULT_PAGE_SIZE])[0])
            page = int(query.get("_page", ["0"])[0])
            chosen = matches[page * page_size : (page + 1) * page_size]
            bundle = fb.searchset(
                chosen,
                lambda r: f"{state.base_url}/{r['resourceType']}/{r.get('id')}",
                total=len(matches),
            )
            more = (page + 1) * page_size < len(matches)
            next_base = state.base_url
            next_query = {**query, "_page": [str(page + 1)]}
            if fault == "next-loop":
                more, next_query = True, query
            elif fault == "next-other-host":
                more, next_base = True, state.other_base
            if more:
                url = f"{next_base}/{resource_type}?{urlencode(next_query, doseq=True)}"
                bundle["link"] = [{"relation": "next", "url": url}]
            return bundle

        def _send_json(
            self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
        ) -> None:
            self._send(status, json.dumps(body).encode(), "application/fhir+json", headers)

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            headers: Mapping[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (deadline, size cap): that is the point of some faults

    return Handler


def _set_subject(resource: dict[str, Any], patient_id: str) -> None:
    reference = {"reference": f"Patient/{patient_id}"}
    if resource.get("resourceType") == "Patient":
        resource["id"] = patient_id
    for key in ("subject", "patient"):
        if key in resource:
            resource[key] = reference


def _outcome(code: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }
