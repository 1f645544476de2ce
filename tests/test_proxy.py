"""The production entry: nginx (deploy/nginx/) in front of gunicorn, each a real process.

- slow clients are held by nginx, not by gunicorn's threads: with more of them than the worker
  has threads, ``/healthz`` still answers at once;
- a client that does not finish its headers is let go after ``client_header_timeout``;
- nginx's own errors are OperationOutcomes; the app's pass through unchanged;
- the config agrees with the service's settings and gunicorn's limits (no server needed).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from raw_http import assert_outcome, exchange, request

from bench import load
from bench.proxy import NGINX_CONFIG_DIR, Proxy, nginx_executable, running_proxy
from cds_service.config import Settings

NGINX_CONF = (NGINX_CONFIG_DIR / "nginx.conf").read_text()
ERRORS_CONF = (NGINX_CONFIG_DIR / "json-errors.conf").read_text()
HEADER_TIMEOUT_S = 10


def gunicorn_limits() -> dict[str, object]:
    """gunicorn's header limits and forwarder headers from the shipped config, loaded in a child
    process (importing it here would set PROMETHEUS_MULTIPROC_DIR for every later test)."""
    code = (
        "import json, cds_service.serving.gunicorn_conf as c; print(json.dumps("
        "{'field': c.limit_request_field_size, 'forwarders': c.forwarder_headers}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    limits: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return limits


def directive(name: str) -> str:
    match = re.search(rf"^\s*{name}\s+([^;]+);", NGINX_CONF, re.M)
    assert match, f"nginx.conf has no {name}"
    return match.group(1).strip()


def size_bytes(text: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([km]?)", text.lower()).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit]


# --- the config, read -----------------------------------------------------------------------


def test_the_proxy_refuses_bodies_at_the_services_limit() -> None:
    assert size_bytes(directive("client_max_body_size")) == Settings().max_body_bytes
    assert f"larger than {Settings().max_body_bytes} bytes" in ERRORS_CONF


def test_gunicorn_takes_every_header_line_the_proxy_lets_through() -> None:
    _count, size = directive("large_client_header_buffers").split()
    limits = gunicorn_limits()
    assert isinstance(limits["field"], int) and limits["field"] >= size_bytes(size)
    assert "SCRIPT_NAME" not in str(limits["forwarders"])


def test_the_proxy_waits_longer_than_a_call_may_take() -> None:
    read_timeout = int(directive("proxy_read_timeout").removesuffix("s"))
    assert read_timeout > Settings().request_deadline_s


def test_every_error_page_has_its_json_answer() -> None:
    targets = re.findall(r"^error_page [\d =]+ (\S+);", ERRORS_CONF, re.M)
    assert len(targets) >= 10
    for target in targets:
        status = target.rsplit("/", 1)[1]
        block = re.search(
            rf"location = {re.escape(target)} \{{\s*internal;\s*return {status} '([^']+)';",
            ERRORS_CONF,
        )
        assert block, f"no JSON answer for {target}"
        assert '"resourceType":"OperationOutcome"' in block.group(1)


# --- the proxy, running ---------------------------------------------------------------------


def test_nginx_own_errors_are_json(proxy: Proxy) -> None:
    assert_outcome(exchange(proxy.port, b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n"), 505)
    gzip_body = request("POST", "/cds-services/jdm-ivig", {"Transfer-Encoding": "gzip"})
    assert_outcome(exchange(proxy.port, gzip_body), 501)


def test_the_apps_own_errors_pass_through_unchanged(
    proxy: Proxy, production_server: load.Server
) -> None:
    direct = requests.get(production_server.base_url + "/no-such-path", timeout=10)
    through = requests.get(proxy.base_url + "/no-such-path", timeout=10)
    assert through.status_code == direct.status_code == 404
    assert through.json() == direct.json()


def test_a_service_that_cannot_be_reached_is_a_json_502(tmp_path: Path) -> None:
    if nginx_executable() is None:
        pytest.skip("nginx is not installed")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        address = f"127.0.0.1:{unused.getsockname()[1]}"
        with running_proxy(tmp_path, [address]) as front:
            assert_outcome(exchange(front.port, request("GET", "/healthz")), 502)


# --- slow clients ---------------------------------------------------------------------------

HEADER_TRICKLE = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
BODY_PRELUDE = request(
    "POST", "/cds-services/jdm-ivig", {"Content-Type": "application/json", "Content-Length": "1000"}
)


class SlowClient(threading.Thread):
    """Sends `prelude`, then `payload` a byte every `interval_s`, until told to stop."""

    def __init__(self, port: int, prelude: bytes, payload: bytes, interval_s: float) -> None:
        super().__init__(daemon=True)
        self.port, self.prelude, self.payload, self.interval_s = port, prelude, payload, interval_s
        self.started_sending = threading.Event()
        self.stop = threading.Event()
        self.cut_after_s: float | None = None  # when the server hung up, if it did

    def run(self) -> None:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as conn:
            try:
                conn.sendall(self.prelude)
                for index in range(len(self.payload)):
                    conn.sendall(self.payload[index : index + 1])
                    self.started_sending.set()
                    if self.stop.wait(self.interval_s):
                        return
            except OSError:
                self.cut_after_s = time.monotonic() - started


@pytest.fixture
def slow_clients(proxy: Proxy) -> Iterator[list[SlowClient]]:
    """Eight clients trickling through the proxy (four headers, four bodies): four times the
    threads the worker behind it has."""
    clients = [SlowClient(proxy.port, b"", HEADER_TRICKLE, 0.5) for _ in range(4)]
    clients += [SlowClient(proxy.port, BODY_PRELUDE, b"{" + b" " * 999, 0.5) for _ in range(4)]
    for client in clients:
        client.start()
    for client in clients:
        assert client.started_sending.wait(10), "a slow client could not start"
    yield clients
    for client in clients:
        client.stop.set()
    for client in clients:
        client.join(timeout=10)


@pytest.mark.timeout(60)
def test_slow_clients_do_not_hold_the_workers_threads(
    proxy: Proxy, slow_clients: list[SlowClient]
) -> None:
    for _ in range(5):
        started = time.monotonic()
        answer = requests.get(proxy.base_url + "/healthz", timeout=5)
        assert answer.status_code == 200
        assert time.monotonic() - started < 1.0
    assert all(client.is_alive() for client in slow_clients)  # still trickling meanwhile


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_client_trickling_its_headers_is_let_go_after_the_header_timeout(proxy: Proxy) -> None:
    client = SlowClient(proxy.port, b"", HEADER_TRICKLE, 1.0)  # a byte a second: never idle
    client.start()
    client.join(timeout=HEADER_TIMEOUT_S + 10)
    assert client.cut_after_s is not None, "nginx never hung up"
    assert HEADER_TIMEOUT_S - 1 < client.cut_after_s < HEADER_TIMEOUT_S + 3, client.cut_after_s
    assert f"client_header_timeout {HEADER_TIMEOUT_S}s;" in NGINX_CONF
