"""Bounded work per call: what one hook call may fetch, hold and spend, over HTTP.

Against a real loopback FHIR server (tests/misbehaving_fhir.py) serving the scenario patient plus
200 more Observations, paged 20 to a page (11 Observation pages in all):

- the resource cap and the byte budget are counted while fetching, page by page: a search stops
  at the page that crosses them (it is never fetched whole and cut afterwards), and says so;
- a resource holding more than one resource may (an array, a text, objects and arrays in all) is
  left out before it is read, with a note naming the limit; a Patient over a limit is a 413 when
  the client sent it and a 412 when the FHIR server did;
- a request body that may hold more JSON objects and arrays than allowed is refused (413) before
  it is parsed;
- one deadline covers the whole call: a body that takes long to read is cut at the deadline
  (503 ``timeout``), and fetching stops early enough to leave time for the rest.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from misbehaving_fhir import MisbehavingFhir, misbehaving_fhir
from schema_check import assert_error

from fhir_fixtures import builders as fb
from fhir_fixtures.builders import codes
from fhir_fixtures.clocks import SCENARIO_NOW as NOW

SCENARIO = Path(__file__).resolve().parent.parent / "fhir_fixtures/scenarios"
SCENARIO = SCENARIO / "in-ivig-start-inadequate-response"
PATIENT_ID = "0286b354-pat"
SERVICE = "/cds-services/jdm-ivig"
PAGE_SIZE = 20
EXTRA_OBSERVATIONS = 200
OBSERVATION_PAGES = -(-(10 + EXTRA_OBSERVATIONS) // PAGE_SIZE)  # 11


def extra_observations(count: int) -> list[dict[str, Any]]:
    return [
        fb.observation(
            f"ck-{index}",
            PATIENT_ID,
            fb.concept(codes.CK),
            effective=(NOW - timedelta(days=3 + index)).isoformat(),
            value_quantity=fb.quantity(150 + index, "U/L"),
        )
        for index in range(count)
    ]


@pytest.fixture
def fhir() -> Iterator[MisbehavingFhir]:
    with misbehaving_fhir() as server:
        server.load(json.loads((SCENARIO / "bundle.json").read_text()))
        server.resources["Observation"] += extra_observations(EXTRA_OBSERVATIONS)
        yield server


def scenario_request() -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SCENARIO / "request.json").read_text())
    return body


def fetched_request(server: MisbehavingFhir) -> dict[str, Any]:
    body = scenario_request()
    del body["prefetch"]
    body["fhirServer"] = server.base_url
    return body


def client_of(make_app: Callable[..., Flask], **settings: Any) -> Any:
    return make_app(clock=lambda: NOW, fhir_page_size=PAGE_SIZE, **settings).test_client()


def pages_of(server: MisbehavingFhir, resource_type: str) -> int:
    return sum(1 for r in server.requests if r.path == f"/fhir/{resource_type}")


def gather_notes(response: Any) -> list[str]:
    notes: list[str] = response.get_json().get("extension", {}).get("org.jdm-cds.gather-notes", [])
    return notes


# --- budgets counted while fetching --------------------------------------------------------


def test_the_resource_cap_stops_paging_at_the_page_that_crosses_it(
    make_app: Callable[..., Flask], fhir: MisbehavingFhir
) -> None:
    client = client_of(make_app, max_prefetch_resources=100)
    response = client.post(SERVICE, json=fetched_request(fhir))
    assert response.status_code == 200, response.get_data(as_text=True)
    note = "Observation data past 100 resources in all was not used (CDS_MAX_PREFETCH_RESOURCES)"
    assert note in gather_notes(response)
    # at most the pages that fit in 100 resources, and the one that crossed: never all 11
    assert pages_of(fhir, "Observation") <= 100 // PAGE_SIZE + 1 < OBSERVATION_PAGES


def test_the_byte_budget_stops_paging_as_the_bytes_arrive(
    make_app: Callable[..., Flask], fhir: MisbehavingFhir
) -> None:
    client = client_of(make_app, fhir_max_fetch_bytes=40_000)
    response = client.post(SERVICE, json=fetched_request(fhir))
    assert response.status_code == 200, response.get_data(as_text=True)
    notes = gather_notes(response)
    assert any("(CDS_FHIR_MAX_FETCH_BYTES)" in note for note in notes), notes
    page_bytes = len(json.dumps(fhir.resources["Observation"][:PAGE_SIZE]))
    assert pages_of(fhir, "Observation") <= 40_000 // page_bytes + 1 < OBSERVATION_PAGES


def test_the_patient_is_read_whatever_the_byte_budget(
    make_app: Callable[..., Flask], fhir: MisbehavingFhir
) -> None:
    client = client_of(make_app, fhir_max_fetch_bytes=1)
    response = client.post(SERVICE, json=fetched_request(fhir))
    assert response.status_code == 200, response.get_data(as_text=True)
    notes = gather_notes(response)
    assert sum("(CDS_FHIR_MAX_FETCH_BYTES)" in note for note in notes) >= 5, notes
    assert not any(note.startswith("Patient") for note in notes)


# --- what one resource may hold ------------------------------------------------------------


def test_a_prefetched_patient_over_a_limit_is_413_naming_it(
    make_app: Callable[..., Flask],
) -> None:
    body = scenario_request()
    body["prefetch"]["patient"]["identifier"] = [
        fb.identifier("urn:oid:2.16.840.1.113883.2.1.4.1", f"{index:010d}")
        for index in range(1_001)
    ]
    response = client_of(make_app).post(SERVICE, json=body)
    diagnostics = assert_error(response, 413)["issue"][0]["diagnostics"]
    assert "identifier holds 1001 items" in diagnostics
    assert "CDS_MAX_RESOURCE_ARRAY_ITEMS" in diagnostics


def test_a_fetched_patient_over_a_limit_is_412_naming_it(
    make_app: Callable[..., Flask], fhir: MisbehavingFhir
) -> None:
    (patient,) = fhir.resources["Patient"]
    patient["text"] = {"status": "generated", "div": "<div>" + "x" * 5_000 + "</div>"}
    client = client_of(make_app, max_resource_string_chars=4_096)
    response = client.post(SERVICE, json=fetched_request(fhir))
    diagnostics = assert_error(response, 412)["issue"][0]["diagnostics"]
    assert "text.div is a text of 5011 characters" in diagnostics
    assert "CDS_MAX_RESOURCE_STRING_CHARS" in diagnostics


def test_a_fetched_resource_over_a_limit_is_left_out_and_named(
    make_app: Callable[..., Flask], fhir: MisbehavingFhir
) -> None:
    nested = fhir.resources["Observation"][-1]
    nested["component"] = [{"code": {"coding": [{"code": str(i)}]}} for i in range(30)]
    client = client_of(make_app, max_resource_nodes=80)
    response = client.post(SERVICE, json=fetched_request(fhir))
    assert response.status_code == 200, response.get_data(as_text=True)
    note = (
        "Observation: 1 resource left out unread: holds more than 80 JSON objects and arrays "
        "(CDS_MAX_RESOURCE_NODES)"
    )
    assert note in gather_notes(response)
    cards = json.dumps(response.get_json()["cards"])
    assert "1 resource left out unread" in cards and "CDS\\\\_MAX\\\\_RESOURCE\\\\_NODES" in cards


def test_a_prefetched_resource_over_a_limit_is_left_out_and_the_rest_used(
    make_app: Callable[..., Flask],
) -> None:
    body = scenario_request()
    entries = body["prefetch"]["observations"]["entry"]
    entries[0]["resource"]["note"] = [{"text": "x"} for _ in range(1_001)]
    response = client_of(make_app).post(SERVICE, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    notes = gather_notes(response)
    assert any(
        note.startswith("Observation: 1 resource left out unread: note holds 1001 items")
        for note in notes
    ), notes


def test_a_body_of_too_many_objects_is_413_before_it_is_parsed(
    make_app: Callable[..., Flask],
) -> None:
    client = client_of(make_app, max_body_json_containers=5_000)
    body = scenario_request()
    body["prefetch"]["patient"]["identifier"] = [{"value": str(i)} for i in range(5_000)]
    diagnostics = assert_error(client.post(SERVICE, json=body), 413)["issue"][0]["diagnostics"]
    assert "more than 5000 JSON objects and arrays (CDS_MAX_BODY_JSON_CONTAINERS)" in diagnostics
    # counted on the bytes, before parsing: JSON that would not even parse is refused for its size
    unparsable = b'{"identifier": [' + b"{}," * 5_001
    response = client.post(SERVICE, data=unparsable, content_type="application/json")
    assert_error(response, 413)
    # and a body under the count is parsed as before
    assert client.post(SERVICE, json=scenario_request()).status_code == 200


# --- one deadline for the whole call -------------------------------------------------------


def slow_to_read(resources: int, notes_each: int) -> dict[str, Any]:
    """A request within every limit whose record takes seconds to read: methotrexate doses, each
    with hundreds of distinct notes (every note is validated)."""
    administrations = []
    for index in range(resources):
        dose = fb.medication_administration(
            f"mtx-{index}",
            PATIENT_ID,
            fb.concept(codes.METHOTREXATE),
            effective=(NOW - timedelta(days=index % 300)).isoformat(),
        )
        dose["note"] = [{"text": f"note {index}.{j} {uuid.uuid4()}"} for j in range(notes_each)]
        administrations.append(dose)
    body = scenario_request()
    body["prefetch"]["medicationAdministrations"] = fb.searchset(administrations, fb.stable_urn)
    return body


@pytest.mark.timeout(120)
def test_a_body_slow_to_read_is_cut_at_the_calls_deadline(
    make_app: Callable[..., Flask],
) -> None:
    body = json.dumps(slow_to_read(resources=300, notes_each=900))

    def post(deadline_s: float) -> tuple[str, float]:
        started = time.monotonic()
        response = client_of(make_app, request_deadline_s=deadline_s).post(
            SERVICE, data=body, content_type="application/json"
        )
        outcome = assert_error(response, 503, "timeout")
        return outcome["issue"][0]["diagnostics"], time.monotonic() - started

    # Reading this record costs about 25 times reading the request (0.5 s and 13 s on a busy
    # machine here). The deadline is set from the request's reading time on this machine, now:
    # a deadline of 0 stops right after it.
    said, reading_the_request_s = post(0.0)
    assert "stopped while reading the request" in said
    deadline_s = 1.0 + 3 * reading_the_request_s
    said, elapsed = post(deadline_s)
    assert "stopped while reading the record" in said
    assert "CDS_REQUEST_DEADLINE_S" in said
    assert elapsed < deadline_s + 1.0, (elapsed, deadline_s)


def test_fetching_stops_early_enough_to_answer_within_the_deadline(
    make_app: Callable[..., Flask], fhir: MisbehavingFhir
) -> None:
    fhir.faults = {"Observation": "slow"}
    fhir.delay_s = 6.0
    client = client_of(make_app, request_deadline_s=2.0, evaluate_reserve_s=0.6)
    started = time.monotonic()
    response = client.post(SERVICE, json=fetched_request(fhir))
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Observation fetch did not finish before the deadline" in gather_notes(response)
    assert 1.4 - 0.1 < elapsed < 2.0, elapsed  # fetches end at 2.0 - 0.6 s; the rest is quick
