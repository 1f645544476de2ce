"""What the production server answers at its edges, over real HTTP on loopback: gunicorn with
the shipped config, auth off (as ``make run``), the default CORS origins and metrics access.

- a chunked body (no Content-Length) over CDS_MAX_BODY_BYTES is 413, not cut and parsed;
- text that is not Unicode (bytes that are not UTF-8, a lone surrogate escape) is 400;
- with auth off only the CDS_CORS_ORIGINS origins (loopback, the CDS Hooks Sandbox) may call:
  another page's origin is refused (403, no CORS headers), preflight included;
- ``/metrics`` answers loopback clients that came through no proxy (403 otherwise).
"""

from __future__ import annotations

import http.client
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from hook_requests import patient_view

from bench import servers

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]

LIMIT = 65_536
SERVICE_PATH = "/cds-services/jdm-ivig"
SANDBOX = "https://sandbox.cds-hooks.org"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("edges")
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "PROMETHEUS_"))}
    env.update(
        CDS_HOST="127.0.0.1",
        CDS_PORT=str(port),
        CDS_PUBLIC_BASE_URL=url,
        CDS_DATABASE_URL=f"sqlite:///{folder / 'store.sqlite3'}",
        CDS_WORKERS="1",
        CDS_THREADS="2",
        CDS_MAX_BODY_BYTES=str(LIMIT),
        CDS_LOG_LEVEL="WARNING",
    )
    argv = [str(Path(sys.executable).parent / "gunicorn"), "-c",
            "cds_service/serving/gunicorn_conf.py"]  # fmt: skip
    with servers.serve(argv, env, f"{url}/healthz", url, servers.ROOT):
        yield url


def post_chunked(base_url: str, path: str, chunks: list[bytes]) -> tuple[int, Any]:
    """POST with Transfer-Encoding: chunked (no Content-Length); (status, JSON body)."""
    split = urlsplit(base_url)
    connection = http.client.HTTPConnection(split.hostname or "", split.port, timeout=30)
    try:
        connection.request(
            "POST", path, body=iter(chunks), encode_chunked=True,
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        )  # fmt: skip
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def padded_hook_body(size: int) -> bytes:
    """A valid hook request, padded with spaces to `size` bytes (JSON allows the whitespace)."""
    body = json.dumps(
        patient_view("p-1", prefetch={"patient": {"resourceType": "Patient", "id": "p-1"}})
    ).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


def test_a_chunked_body_over_the_limit_is_413(base_url: str) -> None:
    body = padded_hook_body(LIMIT + 1)
    status, answer = post_chunked(
        base_url, SERVICE_PATH, [body[i : i + 8192] for i in range(0, len(body), 8192)]
    )
    assert status == 413, answer
    assert answer["resourceType"] == "OperationOutcome"
    assert str(LIMIT) in answer["issue"][0]["diagnostics"]


def test_a_chunked_body_at_the_limit_is_read_whole(base_url: str) -> None:
    status, answer = post_chunked(base_url, SERVICE_PATH, [padded_hook_body(LIMIT)])
    assert status == 200, answer  # cut at the limit it would have been invalid JSON (400)
    assert "cards" in answer


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (b'{"hook": "patient-view", "hookInstance": "\xff\xfe"}', "not UTF-8"),
        (b'{"hook": "patient-view", "hookInstance": "\\udc00"}', "not Unicode"),
    ],
)
def test_text_that_is_not_unicode_is_400(base_url: str, raw: bytes, said: str) -> None:
    response = requests.post(
        base_url + SERVICE_PATH, data=raw, headers={"Content-Type": "application/json"},
        timeout=30,
    )  # fmt: skip
    assert response.status_code == 400
    assert said in response.json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:8000", SANDBOX])
def test_loopback_pages_and_the_sandbox_may_call(base_url: str, origin: str) -> None:
    preflight = requests.options(
        base_url + SERVICE_PATH, timeout=30,
        headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "Origin" in preflight.headers["Vary"]
    discovery = requests.get(base_url + "/cds-services", headers={"Origin": origin}, timeout=30)
    assert discovery.status_code == 200
    assert discovery.headers["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize(
    "origin",
    ["https://attacker.example", "null", "http://localhost.attacker.example:3000",
     "https://sandbox.cds-hooks.org:8443", "http://sandbox.cds-hooks.org"],
)  # fmt: skip
def test_another_pages_origin_is_refused_with_auth_off(base_url: str, origin: str) -> None:
    preflight = requests.options(
        base_url + SERVICE_PATH, timeout=30,
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )  # fmt: skip
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers
    called = requests.post(
        base_url + SERVICE_PATH, timeout=30, headers={"Origin": origin},
        json=patient_view("p-1", prefetch={"patient": {"resourceType": "Patient", "id": "p-1"}}),
    )  # fmt: skip
    assert called.status_code == 403
    assert "Access-Control-Allow-Origin" not in called.headers
    assert "CDS_CORS_ORIGINS" in called.json()["issue"][0]["diagnostics"]


def test_a_client_without_an_origin_is_no_browser_and_passes(base_url: str) -> None:
    assert requests.get(base_url + "/cds-services", timeout=30).status_code == 200


def test_metrics_answer_loopback_clients_that_came_through_no_proxy(base_url: str) -> None:
    direct = requests.get(base_url + "/metrics", timeout=30)
    assert direct.status_code == 200
    assert "jdm_cds_http_requests_total" in direct.text
    for header in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}):
        proxied = requests.get(base_url + "/metrics", headers=header, timeout=30)
        assert proxied.status_code == 403
        assert "CDS_METRICS_ACCESS" in proxied.json()["issue"][0]["diagnostics"]
