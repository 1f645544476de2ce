"""Errors decided before the app, or at its door, answered in CDS Hooks' terms.

Against the production server (gunicorn with the shipped config) reached directly, and through
nginx with the repository's config (deploy/nginx/) when nginx is installed: whatever gunicorn or
nginx refuses on its own (an over-long request line or header, too many headers, a malformed
request line, a body over the size limit, announced or chunked) is answered with a JSON
OperationOutcome, never an HTML page; a ``SCRIPT_NAME`` header is ignored, never a 500; text that
is not Unicode is a 400.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from raw_http import assert_outcome, chunked, exchange, request

from bench import load
from bench.proxy import Proxy

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

SCENARIO = Path(__file__).resolve().parent.parent / "fhir_fixtures/scenarios"
SCENARIO = SCENARIO / "in-ivig-start-inadequate-response"
SERVICE = "/cds-services/jdm-ivig"
JSON = {"Content-Type": "application/json"}
OVER_THE_BODY_LIMIT = 33_554_432 + 1_048_576  # CDS_MAX_BODY_BYTES (and nginx's) + 1 MiB


@pytest.fixture(params=["gunicorn", "nginx"])
def port(request: pytest.FixtureRequest, production_server: load.Server) -> int:
    """The port of the front a test talks to: gunicorn itself, or nginx in front of it."""
    if request.param == "gunicorn":
        return int(production_server.base_url.rsplit(":", 1)[1])
    front: Proxy = request.getfixturevalue("proxy")
    return front.port


def scenario_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SCENARIO / "request.json").read_text())
    return body


def test_an_over_long_request_line_is_414_json(port: int) -> None:
    path = "/cds-services/" + "a" * 40_000
    assert_outcome(exchange(port, request("GET", path)), 414)


def test_a_request_line_gunicorn_refuses_is_414_json_through_nginx_too(port: int) -> None:
    # 9,000 bytes: inside nginx's buffers, past gunicorn's 8,190: gunicorn's own refusal
    assert_outcome(exchange(port, request("GET", "/" + "a" * 9_000)), 414)


def test_an_over_long_header_is_431_json(port: int) -> None:
    answer = exchange(port, request("GET", "/healthz", {"X-Padding": "a" * 40_000}))
    assert_outcome(answer, 431)


def test_a_long_header_the_service_takes_is_not_refused(port: int) -> None:
    # a CDS Hooks JWT may be up to 16 KiB (the app checks that); neither server may refuse it
    answer = exchange(port, request("GET", "/healthz", {"X-Padding": "a" * 17_000}))
    assert answer.status == 200, answer.body[:200]


def test_too_many_headers_is_431_json(port: int) -> None:
    headers = {f"X-Header-{index}": "a" for index in range(150)}
    assert_outcome(exchange(port, request("GET", "/healthz", headers)), 431)


def test_a_malformed_request_line_is_400_json(port: int) -> None:
    assert_outcome(exchange(port, b"BLAH\r\n\r\n"), 400)


@pytest.mark.parametrize("name", ["SCRIPT_NAME", "Script-Name"])
def test_a_script_name_header_is_ignored(port: int, name: str) -> None:
    answer = exchange(port, request("GET", "/healthz", {name: "/elsewhere"}))
    assert answer.status == 200, answer.body[:300]
    assert answer.json()["live"] is True


def test_a_body_announced_over_the_limit_is_413_json(port: int) -> None:
    head = request("POST", SERVICE, {**JSON, "Content-Length": str(OVER_THE_BODY_LIMIT)})
    assert_outcome(exchange(port, head), 413)


def test_a_chunked_body_over_the_limit_is_413_json_not_cut_and_parsed(port: int) -> None:
    head = request("POST", SERVICE, {**JSON, "Transfer-Encoding": "chunked"})
    answer = exchange(port, head, chunked(OVER_THE_BODY_LIMIT))
    outcome = assert_outcome(answer, 413)
    assert "33554432" in outcome["issue"][0]["diagnostics"]


def test_a_chunked_body_within_the_limit_is_read_whole(port: int) -> None:
    body = json.dumps(scenario_body()).encode()
    pieces = [body[i : i + 4096] for i in range(0, len(body), 4096)]
    head = request("POST", SERVICE, {**JSON, "Transfer-Encoding": "chunked"})
    framed = [b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces] + [b"0\r\n\r\n"]
    answer = exchange(port, head, framed)
    assert answer.status == 200, answer.body[:300]
    assert "cards" in answer.json()


def test_a_lone_surrogate_in_the_body_is_400_json(port: int) -> None:
    body = json.dumps(scenario_body()).encode()
    body = body.replace(b'"patient-view"', b'"patient-view", "note": "x\\ud800y"', 1)
    outcome = assert_outcome(exchange(port, request("POST", SERVICE, JSON, body)), 400)
    assert "surrogate" in outcome["issue"][0]["diagnostics"]


def test_a_body_that_is_not_utf8_is_400_json(port: int) -> None:
    body = b'{"hook": "patient-view", "note": "\xff\xfe"}'
    outcome = assert_outcome(exchange(port, request("POST", SERVICE, JSON, body)), 400)
    assert "not UTF-8" in outcome["issue"][0]["diagnostics"]
