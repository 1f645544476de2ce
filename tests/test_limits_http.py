"""Request and fetch limits over HTTP: nesting depth, number of resources, outbound concurrency.

Each limit is set low for the test so a small, realistic request crosses it; the answers are the
ones docs/security.md ("Limits") promises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from misbehaving_fhir import MisbehavingFhir, misbehaving_fhir
from schema_check import assert_error, assert_valid

from fhir_fixtures.clocks import SCENARIO_NOW as NOW

SCENARIO = Path(__file__).resolve().parent.parent / "fhir_fixtures/scenarios"
SCENARIO = SCENARIO / "in-ivig-start-inadequate-response"


def scenario_request() -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SCENARIO / "request.json").read_text())
    return body


def fetched_request(server: MisbehavingFhir) -> dict[str, Any]:
    body = scenario_request()
    del body["prefetch"]
    body["fhirServer"] = server.base_url
    return body


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"extension": [value]} if isinstance(value, dict) else {"valueString": value}
    return value


@pytest.fixture
def fhir() -> Iterator[MisbehavingFhir]:
    with misbehaving_fhir() as server:
        server.load(json.loads((SCENARIO / "bundle.json").read_text()))
        yield server


def build(make_app: Callable[..., Flask], **settings: Any) -> Any:
    return make_app(clock=lambda: NOW, **settings).test_client()


def test_request_nested_past_the_limit_is_400(make_app: Callable[..., Flask]) -> None:
    client = build(make_app, max_json_depth=20)
    body = scenario_request()
    body["context"]["deep"] = nested(30)
    response = client.post("/cds-services/jdm-ivig", json=body)
    diagnostics = assert_error(response, 400)["issue"][0]["diagnostics"]
    assert "deeper than 20 levels" in diagnostics
    assert "CDS_MAX_JSON_DEPTH" in diagnostics


def test_pathological_nesting_is_400_not_a_crash(make_app: Callable[..., Flask]) -> None:
    client = build(make_app)
    raw = "[" * 200_000 + "]" * 200_000
    response = client.post("/cds-services/jdm-ivig", data=raw, content_type="application/json")
    assert_error(response, 400)


def test_the_default_depth_takes_a_real_record(make_app: Callable[..., Flask]) -> None:
    response = build(make_app).post("/cds-services/jdm-ivig", json=scenario_request())
    assert response.status_code == 200
    assert_valid(response, "HookResponse")


def test_too_many_prefetched_resources_is_413(make_app: Callable[..., Flask]) -> None:
    body = scenario_request()
    count = sum(
        len(value.get("entry", [])) if value.get("resourceType") == "Bundle" else 1
        for value in body["prefetch"].values()
        if value
    )
    client = build(make_app, max_prefetch_resources=count - 1)
    diagnostics = assert_error(client.post("/cds-services/jdm-ivig", json=body), 413)
    assert f"prefetch holds {count} FHIR resources" in diagnostics["issue"][0]["diagnostics"]
    at_the_limit = build(make_app, max_prefetch_resources=count)
    assert at_the_limit.post("/cds-services/jdm-ivig", json=body).status_code == 200


def test_fetched_resources_past_the_limit_are_dropped_and_said(
    make_app: Callable[..., Flask], fhir: MisbehavingFhir
) -> None:
    client = build(make_app, max_prefetch_resources=12)
    response = client.post("/cds-services/jdm-ivig", json=fetched_request(fhir))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "past 12 resources in all was not used" in response.get_data(as_text=True)


def test_a_fetched_resource_nested_too_deep_is_left_out_and_said(
    make_app: Callable[..., Flask], fhir: MisbehavingFhir
) -> None:
    procedure = fhir.resources["Procedure"][0]
    procedure["extension"] = [nested(80)]
    client = build(make_app)
    response = client.post("/cds-services/jdm-ivig", json=fetched_request(fhir))
    assert response.status_code == 200
    assert (
        "Procedure: 1 resource left out unread: JSON nests deeper than 64 levels "
        "(CDS_MAX_JSON_DEPTH)"
    ) in response.get_data(as_text=True)


def test_a_prefetched_resource_nested_too_deep_is_left_out_not_a_400(
    make_app: Callable[..., Flask],
) -> None:
    body = scenario_request()
    body["prefetch"]["procedures"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Procedure", "extension": [nested(80)]}}],
    }
    response = build(make_app).post("/cds-services/jdm-ivig", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert (
        "Procedure: 1 resource left out unread: JSON nests deeper than 64 levels"
        in response.get_data(as_text=True)
    )


def test_outbound_calls_in_flight_never_exceed_the_setting(
    make_app: Callable[..., Flask], fhir: MisbehavingFhir
) -> None:
    fhir.faults = {"*": "slow"}
    fhir.delay_s = 0.3  # long enough for calls to overlap when allowed to
    client = build(make_app, fhir_max_concurrency=2)
    response = client.post("/cds-services/jdm-ivig", json=fetched_request(fhir))
    assert response.status_code == 200
    assert fhir.most_in_flight == 2
    client = build(make_app, fhir_max_concurrency=8)
    fhir.most_in_flight = 0
    client.post("/cds-services/jdm-ivig", json=fetched_request(fhir))
    assert fhir.most_in_flight > 2  # the limit, not the server, was what held it at 2
