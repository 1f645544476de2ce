"""The prefetch ladder against a real FHIR server (sekmet) and real loopback sockets.

Prefetch used as is; null not refetched; OperationOutcome = could not be had; missing keys
fetched (paged) from fhirServer; 412 when the Patient cannot be had, within the deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from fhir_server import SekmetServer, closed_port
from flask import Flask
from foundation_data import (
    JDM_PATIENT_ID,
    OTHER_PATIENT_ID,
    WEIGHT_COUNT,
    jdm_patient_resources,
    other_patient_resources,
    transaction,
)
from hook_requests import patient_view
from misbehaving_fhir import connection_recorder
from prefetch_support import SERVICE_URL, by_identity, post, without_uuids
from prefetch_support import full_prefetch as full_prefetch_of
from prefetch_support import templates as templates_of
from recording_fhir import RecordingServer, empty_searchset
from schema_check import assert_error, assert_valid

from fhir_fixtures import builders as fb

PAGE_SIZE = 10  # small pages, so 29 matching Observations take 3 pages


@pytest.fixture(scope="module")
def loaded_server(fhir_server: SekmetServer) -> SekmetServer:
    fhir_server.load(transaction(jdm_patient_resources()))
    fhir_server.load(transaction(other_patient_resources()))
    return fhir_server


def templates(app: Flask) -> dict[str, str]:
    return templates_of(app, JDM_PATIENT_ID)


def full_prefetch(app: Flask, server: SekmetServer) -> dict[str, Any]:
    return full_prefetch_of(app, server, JDM_PATIENT_ID)


def test_full_partial_and_no_prefetch_give_the_same_answer(
    loaded_server: SekmetServer, make_app: Callable[..., Flask], spy: dict[str, Any]
) -> None:
    app = make_app(fhir_page_size=PAGE_SIZE)
    full = full_prefetch(app, loaded_server)
    partial = {key: full[key] for key in ("patient", "conditions", "medicationRequests")}
    answers, gathered = [], []
    for prefetch in (full, partial, None):
        body = patient_view(JDM_PATIENT_ID, prefetch=prefetch, fhir_server=loaded_server.base_url)
        response = post(app, body)
        assert response.status_code == 200, response.get_data(as_text=True)
        answer = assert_valid(response, "HookResponse")
        assert "extension" not in answer  # nothing was cut short
        answers.append(without_uuids(answer["cards"]))
        gathered.append(by_identity(spy["resources"]))
        assert spy["notes"] == []
    assert answers[0] == answers[1] == answers[2]
    assert gathered[0] == gathered[1] == gathered[2]
    # the record really went through: all weights, the JDM condition, no other patient's data
    identities = set(gathered[2])
    assert {f"Observation/{JDM_PATIENT_ID}-wt-{i}" for i in range(WEIGHT_COUNT)} <= identities
    assert f"Condition/{JDM_PATIENT_ID}-jdm" in identities
    assert f"Observation/{JDM_PATIENT_ID}-hr" not in identities  # not asked for (code filter)
    assert not any(OTHER_PATIENT_ID in identity for identity in identities)


def test_without_prefetch_every_page_is_fetched(
    loaded_server: SekmetServer, make_app: Callable[..., Flask], spy: dict[str, Any]
) -> None:
    app = make_app(fhir_page_size=PAGE_SIZE)
    body = patient_view(JDM_PATIENT_ID, fhir_server=loaded_server.base_url)
    assert post(app, body).status_code == 200
    links = [json.dumps(v.get("link", [])) for v in spy["resources"]]
    by_code = [link for link in links if "Observation" in link and "code=" in link]
    by_category = [link for link in links if "Observation" in link and "category=" in link]
    assert len(by_code) == 3  # 29 matching at 10 a page
    assert len(by_category) == 1  # the assessment categories: none here, one empty page
    weights = [i for i in by_identity(spy["resources"]) if "-wt-" in i]
    assert len(weights) == WEIGHT_COUNT


def test_at_sekmet_default_page_size_the_20_page_boundary_is_crossed(
    loaded_server: SekmetServer, make_app: Callable[..., Flask], spy: dict[str, Any]
) -> None:
    app = make_app(fhir_page_size=20)
    assert (
        post(app, patient_view(JDM_PATIENT_ID, fhir_server=loaded_server.base_url)).status_code
        == 200
    )
    weights = [i for i in by_identity(spy["resources"]) if "-wt-" in i]
    assert len(weights) == WEIGHT_COUNT > 20


def test_page_ceiling_cuts_the_search_short_and_says_so(
    loaded_server: SekmetServer, make_app: Callable[..., Flask], spy: dict[str, Any]
) -> None:
    app = make_app(fhir_page_size=PAGE_SIZE, fhir_max_pages=2)
    response = post(app, patient_view(JDM_PATIENT_ID, fhir_server=loaded_server.base_url))
    assert response.status_code == 200
    assert "Observation search cut short after 2 pages" in spy["notes"]
    extension = assert_valid(response, "HookResponse")["extension"]
    assert extension["org.jdm-cds.gather-notes"] == spy["notes"]
    observations = [i for i in by_identity(spy["resources"]) if i.startswith("Observation/")]
    assert len(observations) == 2 * PAGE_SIZE


def test_prefetched_searchset_with_next_link_gets_the_rest_from_fhir_server(
    loaded_server: SekmetServer, make_app: Callable[..., Flask], spy: dict[str, Any]
) -> None:
    app = make_app(fhir_page_size=PAGE_SIZE)
    full = full_prefetch(app, loaded_server)
    first_page = loaded_server.request("GET", templates(app)["observations"])
    assert any(link["relation"] == "next" for link in first_page["link"])
    prefetch = {**full, "observations": first_page}  # a client that does not page
    body = patient_view(JDM_PATIENT_ID, prefetch=prefetch, fhir_server=loaded_server.base_url)
    assert post(app, body).status_code == 200
    assert by_identity(spy["resources"]) == by_identity(full.values())
    assert spy["notes"] == []


def test_prefetched_searchset_with_next_link_and_no_server_is_noted(
    loaded_server: SekmetServer, make_app: Callable[..., Flask], spy: dict[str, Any]
) -> None:
    app = make_app(fhir_page_size=PAGE_SIZE)
    prefetch = {**full_prefetch(app, loaded_server)}
    prefetch["observations"] = loaded_server.request("GET", templates(app)["observations"])
    response = post(app, patient_view(JDM_PATIENT_ID, prefetch=prefetch))
    assert response.status_code == 200
    assert any(n.startswith("Observation") and "cut short" in n for n in spy["notes"])


def test_no_fhir_server_and_no_prefetch_is_412(client: Any) -> None:
    body = assert_error(client.post(SERVICE_URL, json=patient_view(JDM_PATIENT_ID)), 412)
    diagnostics = [issue["diagnostics"] for issue in body["issue"]]
    assert "Patient" in diagnostics[0]
    assert "missing: patient" in diagnostics


def test_patient_null_without_server_is_412(client: Any) -> None:
    response = client.post(
        SERVICE_URL, json=patient_view(JDM_PATIENT_ID, prefetch={"patient": None})
    )
    assert_error(response, 412)


def test_fhir_server_on_a_closed_port_is_412_within_the_deadline(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(request_deadline_s=2.0)
    body = patient_view(JDM_PATIENT_ID, fhir_server=f"http://127.0.0.1:{closed_port()}/fhir")
    started = time.monotonic()
    response = post(app, body)
    elapsed = time.monotonic() - started
    payload = assert_error(response, 412)
    assert "unreachable" in payload["issue"][0]["diagnostics"]
    assert elapsed < 2.0 + 0.5


def test_slow_fhir_server_is_412_within_the_deadline(make_app: Callable[..., Flask]) -> None:
    app = make_app(request_deadline_s=1.0, fhir_timeout_s=4.0)
    with RecordingServer(delay_s=3.0) as slow:
        started = time.monotonic()
        response = post(app, patient_view(JDM_PATIENT_ID, fhir_server=slow.base_url))
        elapsed = time.monotonic() - started
    assert_error(response, 412)
    assert elapsed < 1.0 + 0.6
    assert slow.paths(), "the slow server was never asked"


def test_missing_patient_on_the_server_is_412(loaded_server: SekmetServer, client: Any) -> None:
    body = patient_view("found-nobody", fhir_server=loaded_server.base_url)
    payload = assert_error(client.post(SERVICE_URL, json=body), 412)
    assert "404" in payload["issue"][0]["diagnostics"]


def test_keys_sent_as_null_are_not_refetched(
    make_app: Callable[..., Flask], spy: dict[str, Any]
) -> None:
    app = make_app()
    patient = fb.patient(JDM_PATIENT_ID)
    with RecordingServer() as server:
        keys = templates(app)
        prefetch: dict[str, Any] = {key: None for key in keys}
        prefetch["patient"] = patient
        assert (
            post(
                app, patient_view(JDM_PATIENT_ID, prefetch=prefetch, fhir_server=server.base_url)
            ).status_code
            == 200
        )
        assert server.paths() == []
        # now leave Observations out: only they are fetched
        del prefetch["observations"]
        assert (
            post(
                app, patient_view(JDM_PATIENT_ID, prefetch=prefetch, fhir_server=server.base_url)
            ).status_code
            == 200
        )
        paths = server.paths()
    assert len(paths) == 1 and paths[0].startswith("/fhir/Observation?")
    assert spy["notes"] == []


def test_operation_outcome_in_a_key_means_could_not_be_had(
    make_app: Callable[..., Flask], spy: dict[str, Any]
) -> None:
    app = make_app()
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }
    with RecordingServer() as server:
        prefetch = {"patient": fb.patient(JDM_PATIENT_ID), "observations": outcome}
        body = patient_view(JDM_PATIENT_ID, prefetch=prefetch, fhir_server=server.base_url)
        assert post(app, body).status_code == 200
        assert "Observation could not be had (the client sent an error)" in spy["notes"]
        # not asked again (the assessment-category search is another key, fetched as not sent)
        assert not any(p.startswith("/fhir/Observation") and "code=" in p for p in server.paths())
        assert outcome not in spy["resources"]
        # no Patient at all: 412, and the service does not try again itself
        no_patient = patient_view(
            JDM_PATIENT_ID, prefetch={"patient": outcome}, fhir_server=server.base_url
        )
        assert_error(post(app, no_patient), 412)
        assert not any(p.startswith("/fhir/Patient") for p in server.paths())


def test_missing_keys_are_fetched_with_the_bearer_token(make_app: Callable[..., Flask]) -> None:
    app = make_app(fhir_page_size=50)
    with RecordingServer() as server:
        body = patient_view(JDM_PATIENT_ID, fhir_server=server.base_url, access_token="tok-123")
        assert post(app, body).status_code == 200
        requests_seen = list(server.requests)
    assert len(requests_seen) == len(templates(app))
    assert all(headers.get("Authorization") == "Bearer tok-123" for _p, headers in requests_seen)
    searched = sorted(p.split("?")[0] for p, _h in requests_seen)
    assert f"/fhir/Patient/{JDM_PATIENT_ID}" in searched
    assert all("_count=50" in p for p, _h in requests_seen if "?" in p)


def test_a_fhir_server_off_the_allowlist_is_412_and_never_contacted(
    make_app: Callable[..., Flask],
) -> None:
    with connection_recorder("127.0.0.1") as listener:
        app = make_app(fhir_server_allowlist=("http://127.0.0.1:1/fhir",))
        body = patient_view(JDM_PATIENT_ID, fhir_server=listener.base_url)
        payload = assert_error(post(app, body), 412)
        assert "allowlist" in payload["issue"][0]["diagnostics"]
        # every connection made so far has been taken in (our probe came after): none was
        assert listener.settled_connections() == 0


@pytest.mark.parametrize(
    "server_url",
    ["http://example.org/fhir", "ftp://127.0.0.1/fhir", "http://user:pw@127.0.0.1:1/fhir"],
)
def test_unusable_or_plain_http_servers_are_refused(client: Any, server_url: str) -> None:
    body = patient_view(JDM_PATIENT_ID, fhir_server=server_url)
    if server_url.startswith("ftp"):
        assert_error(client.post(SERVICE_URL, json=body), 400)  # the schema wants http(s)
    else:
        assert_error(client.post(SERVICE_URL, json=body), 412)


def test_another_patients_resources_in_a_fetched_bundle_reach_only_the_parser(
    make_app: Callable[..., Flask], spy: dict[str, Any]
) -> None:
    stray = fb.observation(
        "stray-1",
        OTHER_PATIENT_ID,
        fb.concept(fb.WEIGHT.shown_as(None)),
        effective="2026-03-01",
        value_quantity=fb.quantity(90, "kg"),
    )

    def leaky(path: str) -> tuple[int, Any]:
        if path.startswith("/fhir/Observation"):
            return 200, fb.searchset([stray], full_url=None, total=None)
        return empty_searchset(path)

    app = make_app()
    with RecordingServer(leaky) as server:
        body = patient_view(JDM_PATIENT_ID, fhir_server=server.base_url)
        response = post(app, body)
    assert response.status_code == 200
    assert "Observation/stray-1" in by_identity(spy["resources"])  # handed on as received ...
    from cds_service.history.parse import parse_resources

    parsed = parse_resources(spy["resources"], JDM_PATIENT_ID)  # ... and dropped by the parser
    assert parsed.of_type("Observation") == ()
    assert [(n.resource_id, n.category) for n in parsed.notes] == [("stray-1", "other-patient")]


def test_the_token_never_goes_to_a_next_link_on_another_host(
    make_app: Callable[..., Flask], spy: dict[str, Any]
) -> None:
    with RecordingServer() as elsewhere:

        def pointing_away(path: str) -> tuple[int, Any]:
            if path.startswith("/fhir/Observation"):
                next_page = {"relation": "next", "url": f"{elsewhere.base_url}/Observation?page=2"}
                return 200, fb.searchset([], total=None) | {"link": [next_page]}
            return empty_searchset(path)

        with RecordingServer(pointing_away) as server:
            body = patient_view(JDM_PATIENT_ID, fhir_server=server.base_url, access_token="tok-9")
            assert post(make_app(), body).status_code == 200
        assert elsewhere.requests == []
    assert any("link leads off the FHIR server" in note for note in spy["notes"])
