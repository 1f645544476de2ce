"""The service against misbehaving FHIR servers, each a real local one (tests/misbehaving_fhir.py).

The patient is the hand-written scenario ``in-ivig-start-inadequate-response``: 26 kg, so the one
correct IVIG course is 2 g/kg = 52 g, 26 g/day over 2 days (its expected.json, from
docs/clinical/dosing.md).
Every fault must end in the documented answer (docs/security.md, "Fault behaviour"):

- the Patient cannot be had (down, slow, 5xx, 429, not FHIR JSON) -> 412, inside the deadline;
- another resource type cannot be had -> 200 with cards and a ``data-quality`` card naming it;
- never a 500, and never a dose other than 52 g (a card without the weight states no dose at all).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir_server import closed_port
from flask import Flask
from flask.testing import FlaskClient
from misbehaving_fhir import MisbehavingFhir, connection_recorder, misbehaving_fhir
from schema_check import assert_error, assert_valid

from cds_service.app import create_app
from fhir_fixtures.clocks import SCENARIO_NOW as NOW

SCENARIO = Path(__file__).resolve().parent.parent / "fhir_fixtures/scenarios"
SCENARIO = SCENARIO / "in-ivig-start-inadequate-response"
PATIENT_ID = "0286b354-pat"
FHIR_TOKEN = "fhir-access-token-3b9e1c"
# fetches stop at half the deadline (config.evaluate_reserve_s): 1.5 s leaves the well-behaved
# searches (Patient, Conditions, ...) time to finish on a loaded 2-core box, so only the faulty one
# is cut short
DEADLINE_S = 3.0
# the answer may take the deadline plus the time to build cards; a loaded CI box gets slack
ANSWER_WITHIN_S = DEADLINE_S + 2.0
CORRECT_COURSE_G = Decimal("52")
CORRECT_PER_DAY_G = Decimal("26")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    database = tmp_path_factory.mktemp("faults") / "jdm-cds.sqlite3"
    settings = {
        "database_url": f"sqlite:///{database}",
        "request_deadline_s": DEADLINE_S,
        "fhir_timeout_s": 1.0,
        "fhir_max_response_bytes": 1_000_000,
    }
    return create_app(settings, clock=lambda: NOW)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def fhir() -> Iterator[MisbehavingFhir]:
    with connection_recorder("127.0.0.2") as elsewhere, misbehaving_fhir() as server:
        server.other_base = elsewhere.base_url
        server.load(json.loads((SCENARIO / "bundle.json").read_text()))
        server.elsewhere = elsewhere  # type: ignore[attr-defined]
        yield server


def hook_call(client: FlaskClient, server_url: str) -> tuple[Any, float]:
    body = json.loads((SCENARIO / "request.json").read_text())
    del body["prefetch"]
    body["fhirServer"] = server_url
    body["fhirAuthorization"] = {
        "access_token": FHIR_TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "cds",
    }
    started = time.monotonic()
    response = client.post("/cds-services/jdm-ivig", json=body)
    return response, time.monotonic() - started


def topics(response: Any) -> list[str]:
    return sorted(card["source"]["topic"]["code"] for card in response.get_json()["cards"])


def data_quality_text(response: Any) -> str:
    cards = [
        c for c in response.get_json()["cards"] if c["source"]["topic"]["code"] == "data-quality"
    ]
    assert len(cards) == 1, topics(response)
    return str(cards[0]["detail"])


def assert_no_wrong_dose(response: Any) -> None:
    """Every IVIG dose stated is the one right dose; a missing weight means no dose at all."""
    for card in response.get_json()["cards"]:
        dose = card.get("extension", {}).get("org.jdm-cds.evidence", {}).get("dose")
        if dose and dose.get("agent") == "ivig":
            assert Decimal(dose["weightKg"]) == Decimal("26"), dose
            assert Decimal(dose["courseTotalG"]) == CORRECT_COURSE_G, dose
            assert Decimal(dose["perDayG"]) == CORRECT_PER_DAY_G, dose
        # what an 80 kg intruder's weight would give: 160 g uncapped, capped to 70 g
        assert "80 kg" not in card["detail"]
        assert "70 g ÷" not in card["detail"]


def assert_token_only_on(server: MisbehavingFhir) -> None:
    assert server.requests, "the FHIR server was not called"
    assert {r.authorization for r in server.requests} == {f"Bearer {FHIR_TOKEN}"}
    assert server.elsewhere.settled_connections() == 0  # type: ignore[attr-defined]


def test_well_behaved_server_gives_the_right_dose(
    client: FlaskClient, fhir: MisbehavingFhir
) -> None:
    response, _ = hook_call(client, fhir.base_url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_valid(response, "HookResponse")
    assert topics(response) == ["ivig-start"]
    doses = [c["extension"]["org.jdm-cds.evidence"]["dose"] for c in response.get_json()["cards"]]
    assert Decimal(doses[0]["courseTotalG"]) == CORRECT_COURSE_G
    assert_token_only_on(fhir)


def test_closed_port_is_412_inside_the_deadline(client: FlaskClient) -> None:
    closed_url = f"http://127.0.0.1:{closed_port()}/fhir"
    response, elapsed = hook_call(client, closed_url)
    body = assert_error(response, 412)
    assert "Patient" in json.dumps(body)
    assert elapsed < ANSWER_WITHIN_S


@pytest.mark.parametrize(
    "fault", ["slow", "trickle", "500", "429", "html", "truncated", "huge", "wrong-type"]
)
def test_patient_unobtainable_is_412_inside_the_deadline(
    client: FlaskClient, fhir: MisbehavingFhir, fault: str
) -> None:
    fhir.faults = {"*": fault}
    fhir.delay_s = DEADLINE_S + 2
    response, elapsed = hook_call(client, fhir.base_url)
    assert_error(response, 412)
    assert elapsed < ANSWER_WITHIN_S, elapsed


@pytest.mark.parametrize(
    ("fault", "note"),
    [
        ("slow", "Observation"),
        ("trickle", "deadline"),
        ("500", "answered 500"),
        ("429", "answered 429"),
        ("html", "text/html"),
        ("truncated", "invalid JSON"),
        ("huge", "larger than"),
        ("wrong-type", "text/plain"),
        ("redirect-other-host", "redirect leads off the FHIR server"),
    ],
)
def test_observations_unobtainable_gives_cards_and_a_data_quality_card(
    client: FlaskClient, fhir: MisbehavingFhir, fault: str, note: str
) -> None:
    fhir.faults = {"Observation": fault}
    fhir.delay_s = DEADLINE_S + 2
    response, elapsed = hook_call(client, fhir.base_url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_valid(response, "HookResponse")
    assert elapsed < ANSWER_WITHIN_S, elapsed
    assert "data-quality" in topics(response)
    assert note in data_quality_text(response)
    # without the weight there is no dose to state, and a card asks for the weight
    assert "weight-needed" in topics(response)
    assert_no_wrong_dose(response)
    assert_token_only_on(fhir)


def test_another_patients_resources_in_the_bundle_are_not_used(
    client: FlaskClient, fhir: MisbehavingFhir
) -> None:
    # the server ignores `patient=`: a newer, heavier weight of another child comes back too
    weights = [o for o in fhir.resources["Observation"] if o["id"].endswith("w-now")]
    intruder = json.loads(json.dumps(weights[0]))
    intruder.update(id="intruder-weight", subject={"reference": "Patient/someone-else"})
    intruder["valueQuantity"] = {**intruder["valueQuantity"], "value": 80}
    intruder["effectiveDateTime"] = "2026-03-15T09:00:00+13:00"
    fhir.resources["Observation"].append(intruder)
    fhir.faults = {"Condition": "other-patient"}
    response, _ = hook_call(client, fhir.base_url)
    assert response.status_code == 200
    assert "ivig-start" in topics(response)
    assert_no_wrong_dose(response)
    for card in response.get_json()["cards"]:
        evidence = card["extension"]["org.jdm-cds.evidence"]
        if card["source"]["topic"]["code"] == "data-quality":
            continue  # its evidence lists what it left out
        assert not [r for r in evidence["resources"] if "intruder" in r], card["summary"]
        if card["source"]["topic"]["code"] == "ivig-start":
            assert evidence["dose"]["weightObservation"].endswith("w-now")
    # the foreign records are named as left out, never used
    assert "another patient" in data_quality_text(response)


def test_a_looping_next_link_is_stopped_and_said(
    client: FlaskClient, fhir: MisbehavingFhir
) -> None:
    fhir.faults = {"MedicationAdministration": "next-loop"}
    response, elapsed = hook_call(client, fhir.base_url)
    assert response.status_code == 200
    assert "next link loops" in data_quality_text(response)
    assert elapsed < ANSWER_WITHIN_S
    loops = [r for r in fhir.requests if r.path.endswith("/MedicationAdministration")]
    assert len(loops) == 2  # the first page, then its link back to itself: stopped there
    assert_no_wrong_dose(response)


def test_a_next_link_to_another_host_is_not_followed(
    client: FlaskClient, fhir: MisbehavingFhir
) -> None:
    fhir.faults = {"MedicationAdministration": "next-other-host"}
    response, _ = hook_call(client, fhir.base_url)
    assert response.status_code == 200
    assert "leads off the FHIR server" in data_quality_text(response)
    assert_token_only_on(fhir)  # the other host saw no connection, let alone the token


def test_a_next_link_to_an_allowed_but_different_server_gets_no_token(
    client: FlaskClient, fhir: MisbehavingFhir
) -> None:
    with misbehaving_fhir() as neighbour:  # 127.0.0.1 too: on the allowlist, not this server
        fhir.other_base = neighbour.base_url
        fhir.faults = {"MedicationAdministration": "next-other-host"}
        response, _ = hook_call(client, fhir.base_url)
        neighbour_connections = neighbour.settled_connections()
    assert response.status_code == 200
    assert neighbour_connections == 0


@pytest.fixture
def on_default_port() -> Iterator[tuple[MisbehavingFhir, MisbehavingFhir]]:
    """The FHIR server on port 80 of a loopback address of its own, so `fhirServer` can be
    written without a port (like ``https://ehr.example.org/fhir``), and a listener on another
    port of the same host that counts every connection it is offered."""
    with contextlib.ExitStack() as stack:
        server = None
        for attempt in range(8):  # one address per pytest-xdist worker, another if 80 is taken
            host = f"127.0.80.{2 + (os.getpid() + attempt) % 250}"
            try:
                server = stack.enter_context(misbehaving_fhir(host, port=80))
                break
            except PermissionError:
                pytest.skip("binding port 80 needs root or CAP_NET_BIND_SERVICE")
            except OSError:
                continue
        if server is None:
            pytest.skip("no loopback address with a free port 80")
        other = stack.enter_context(connection_recorder(server.host))
        server.load(json.loads((SCENARIO / "bundle.json").read_text()))
        server.other_base = other.base_url  # the same host, another port
        server.elsewhere = other  # type: ignore[attr-defined]
        yield server, other


def _no_port_app(make_app: Any, host: str, allowlist: str) -> FlaskClient:
    app = make_app(
        clock=lambda: NOW,
        request_deadline_s=DEADLINE_S,
        fhir_timeout_s=1.0,
        fhir_server_allowlist=(allowlist,),
        fhir_http_hosts=(host,),
    )
    client: FlaskClient = app.test_client()
    return client


@pytest.mark.parametrize("fault", ["next-other-host", "redirect-other-host"])
def test_a_server_named_without_a_port_never_sends_the_token_to_another_port(
    make_app: Any, on_default_port: tuple[MisbehavingFhir, MisbehavingFhir], fault: str
) -> None:
    """`http://host/fhir` is port 80 only: a next link or a redirect to `http://host:<other>/`
    is another server, even though the allowlist (`:*`) would let the service call it."""
    fhir, other = on_default_port
    client = _no_port_app(make_app, fhir.host, f"http://{fhir.host}:*")
    fhir.faults = {"MedicationAdministration": fault}
    response, _ = hook_call(client, f"http://{fhir.host}/fhir")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "leads off the FHIR server" in data_quality_text(response)
    assert_token_only_on(fhir)  # the token went to port 80 only ...
    assert other.settled_connections() == 0  # ... and the other port was never even contacted


def test_an_allowlist_entry_without_a_port_allows_the_default_port_only(
    make_app: Any, on_default_port: tuple[MisbehavingFhir, MisbehavingFhir]
) -> None:
    fhir, other = on_default_port
    client = _no_port_app(make_app, fhir.host, f"http://{fhir.host}")
    answered, _ = hook_call(client, f"http://{fhir.host}:80/fhir")  # the same server, spelt out
    assert answered.status_code == 200, answered.get_data(as_text=True)
    refused, _ = hook_call(client, other.base_url)
    assert "allowlist" in assert_error(refused, 412)["issue"][0]["diagnostics"]
    assert other.settled_connections() == 0


def test_same_server_redirects_are_followed(client: FlaskClient, fhir: MisbehavingFhir) -> None:
    fhir.faults = {"*": "redirect-same"}
    response, _ = hook_call(client, fhir.base_url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert topics(response) == ["ivig-start"]
    assert any("_redirected" in r.query for r in fhir.requests)
    assert_no_wrong_dose(response)
    assert_token_only_on(fhir)


@pytest.mark.parametrize(
    "server_url",
    [
        "http://127.0.0.2:{port}/fhir",  # a host not on the allowlist
        "https://127.0.0.2:{port}/fhir",  # https does not make it trusted
        "http://user:pw@127.0.0.1:{port}/fhir",  # credentials in the URL
        "http://127.0.0.1:{port}/fhir/../admin",  # escapes the allowed path
        "http://127.0.0.1:{port}/fhir/%2e%2e/admin",
        "http://127.0.0.1:{port}/fhir?x=1",
    ],
)
def test_a_server_not_allowed_is_412_and_never_contacted(make_app: Any, server_url: str) -> None:
    with connection_recorder("127.0.0.2") as far, connection_recorder("127.0.0.1") as near:
        port = far.port if "127.0.0.2" in server_url else near.port
        app = make_app(fhir_server_allowlist=(f"http://127.0.0.1:{near.port}/fhir",))
        response, _ = hook_call(app.test_client(), server_url.format(port=port))
        body = assert_error(response, 412)
        assert "fhirServer" in body["issue"][0]["diagnostics"]
        # each server has taken in every connection made so far (a probe of ours came after)
        assert far.settled_connections() == 0
        assert near.settled_connections() == 0


def test_plain_http_is_refused_for_hosts_that_need_https(make_app: Any) -> None:
    with connection_recorder("127.0.0.1") as server:
        app = make_app(fhir_server_allowlist=("http://127.0.0.1",), fhir_http_hosts=("::1",))
        response, _ = hook_call(app.test_client(), server.base_url)
        assert "https" in assert_error(response, 412)["issue"][0]["diagnostics"]
        assert server.settled_connections() == 0


def test_a_trickling_server_is_let_go_soon_after_the_deadline(
    client: FlaskClient, fhir: MisbehavingFhir
) -> None:
    """Each byte arrives inside the read timeout, so only the deadline can end the read: the
    fetching thread must hang up, not keep a worker's thread for as long as the server likes."""
    fhir.faults = {"Observation": "trickle"}
    started = time.monotonic()
    response, elapsed = hook_call(client, fhir.base_url)
    assert response.status_code == 200 and elapsed < ANSWER_WITHIN_S, elapsed
    # at most one read timeout (1 s) past the deadline; the server sees it at its next write
    let_go_by = started + DEADLINE_S + 1.0 + fhir.trickle_interval_s * 2 + 1.0  # 1 s: CI slack
    fhir.hung_up.wait(timeout=max(0.0, let_go_by + 5 - time.monotonic()))
    assert fhir.hung_up_at, "the trickling response was still being read"
    assert fhir.hung_up_at[0] < let_go_by, fhir.hung_up_at[0] - started
