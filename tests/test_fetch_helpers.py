"""Template tokens, the allowlist check, next links, and bounded fetch concurrency."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask
from foundation_data import JDM_PATIENT_ID
from hook_requests import patient_view
from recording_fhir import RecordingServer
from schema_check import assert_error

from cds_service.config import Settings, SettingsError
from cds_service.errors import FhirServerNotAllowedError
from cds_service.gather.fhir_client import (
    Deadline,
    FhirClient,
    check_server_allowed,
    next_link,
)
from cds_service.gather.prefetch import fill_template, resource_type_of
from cds_service.gather.registry import jdm_ivig_prefetch
from cds_service.web.state import state

CONTEXT = {"userId": "Practitioner/dr-7", "patientId": "p-1", "encounterId": "e-9"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Patient/{{context.patientId}}", "Patient/p-1"),
        ("Encounter/{{ context.encounterId }}", "Encounter/e-9"),
        ("Practitioner/{{userPractitionerId}}", "Practitioner/dr-7"),
        ("PractitionerRole/{{userPractitionerRoleId}}", None),  # the user is a Practitioner
        ("Patient/{{userPatientId}}", None),
        (
            "Observation?patient={{context.patientId}}&code=http://loinc.org|29463-7",
            "Observation?patient=p-1&code=http://loinc.org|29463-7",
        ),
        ("X?a={{context.missing}}", None),
        ("X?a={{unknownToken}}", None),
    ],
)
def test_fill_template(template: str, expected: str | None) -> None:
    assert fill_template(template, CONTEXT) == expected


def test_filled_values_are_url_quoted() -> None:
    assert (
        fill_template("X?p={{context.patientId}}", {"patientId": "a&b=c/d"}) == "X?p=a%26b%3Dc%2Fd"
    )


def test_resource_type_of_templates() -> None:
    templates = jdm_ivig_prefetch(["http://loinc.org|29463-7"], 50)
    assert {key: resource_type_of(t) for key, t in templates.items()} == {
        "patient": "Patient",
        "conditions": "Condition",
        "medicationRequests": "MedicationRequest",
        "medicationAdministrations": "MedicationAdministration",
        "medicationStatements": "MedicationStatement",
        "observations": "Observation",
        "scoreObservations": "Observation",
        "procedures": "Procedure",
        "immunizations": "Immunization",
        "allergies": "AllergyIntolerance",
    }


ALLOWLIST = Settings(
    fhir_server_allowlist=(
        "https://ehr.example.org/fhir",
        "http://127.0.0.1:8090",
        "http://localhost",
        "http://[::1]:*",
    ),
    fhir_http_hosts=("127.0.0.1", "localhost", "::1"),
)


@pytest.mark.parametrize(
    ("server", "allowed"),
    [
        ("https://ehr.example.org/fhir", True),
        ("https://ehr.example.org/fhir/", True),
        ("https://ehr.example.org/fhir/r4", True),
        ("https://ehr.example.org:443/fhir", True),  # the default port, spelt out
        ("https://ehr.example.org/fhirx", False),  # a prefix by whole segments only
        ("https://ehr.example.org/other", False),
        ("https://ehr.example.org.evil.test/fhir", False),
        ("http://ehr.example.org/fhir", False),  # plain http to a host that needs https
        ("https://ehr.example.org:8443/fhir", False),  # no port in the entry: 443 only
        ("http://127.0.0.1:8090/fhir", True),
        ("http://127.0.0.1:8091/fhir", False),  # the entry names a port
        ("http://localhost/anything", True),
        ("http://localhost:80/anything", True),
        ("http://localhost:1234/anything", False),  # no port in the entry: 80 only
        ("http://[::1]:1234/fhir", True),  # `:*`: any port
        ("http://[::1]/fhir", True),
        ("https://user:pw@ehr.example.org/fhir", False),
        ("not a url", False),
        ("file:///etc/passwd", False),
    ],
)
def test_allowlist(server: str, allowed: bool) -> None:
    if allowed:
        check_server_allowed(server, ALLOWLIST)
    else:
        with pytest.raises(FhirServerNotAllowedError):
            check_server_allowed(server, ALLOWLIST)


@pytest.mark.parametrize(
    "entry", ["ehr.example.org/fhir", "ftp://a.example", "https://a.example:x", "https://a/?q=1"]
)
def test_an_unusable_allowlist_entry_stops_startup(
    make_app: Callable[..., Flask], entry: str
) -> None:
    with pytest.raises(SettingsError, match="CDS_FHIR_SERVER_ALLOWLIST"):
        make_app(fhir_server_allowlist=("http://127.0.0.1:*", entry))


@pytest.mark.parametrize(
    ("base", "url", "owned"),
    [
        ("http://localhost/fhir", "http://localhost/fhir/Observation?_page=2", True),
        ("http://localhost/fhir", "http://localhost:80/fhir/Observation", True),
        ("http://localhost/fhir", "http://localhost:8433/fhir/Observation", False),
        ("https://ehr.example.org:443/fhir", "https://ehr.example.org/fhir/Patient/1", True),
        ("https://ehr.example.org/fhir", "http://ehr.example.org/fhir/Patient/1", False),
        ("https://ehr.example.org/fhir", "https://ehr.example.org/fhirx/Patient/1", False),
    ],
)
def test_the_token_goes_to_the_same_scheme_host_and_port_only(
    base: str, url: str, owned: bool
) -> None:
    client = FhirClient(base, Settings(), Deadline(1.0), requests.Session())
    assert client.owns(url) is owned


def test_next_link() -> None:
    bundle: dict[str, Any] = {
        "link": [{"relation": "self", "url": "a"}, {"relation": "next", "url": "b"}]
    }
    assert next_link(bundle) == "b"
    assert next_link({"link": [{"relation": "self", "url": "a"}]}) is None
    assert next_link({"link": "oops"}) is None
    assert next_link({"link": [{"relation": "next", "url": ""}]}) is None


@pytest.mark.parametrize("concurrency", [1, 3])
def test_fetches_run_concurrently_up_to_the_setting(
    make_app: Callable[..., Flask], concurrency: int
) -> None:
    """Ten keys against a server taking 0.3 s each: waves of `concurrency` calls, never more."""
    app = make_app(fhir_max_concurrency=concurrency, request_deadline_s=8.0)
    with RecordingServer(delay_s=0.3) as server:
        started = time.monotonic()
        body = patient_view(JDM_PATIENT_ID, fhir_server=server.base_url)
        response = app.test_client().post("/cds-services/jdm-ivig", json=body)
        elapsed = time.monotonic() - started
        most_at_once = server.max_in_flight
        calls = len(server.requests)
    assert response.status_code == 200
    assert calls == 10
    assert most_at_once == concurrency
    waves = -(-calls // concurrency)
    assert elapsed >= waves * 0.3 - 0.05
    if concurrency > 1:
        assert elapsed < 10 * 0.3  # faster than one at a time


def test_a_slow_fhir_server_holds_at_most_its_slots_and_others_are_answered(
    make_app: Callable[..., Flask],
) -> None:
    """Two calls wait on a slow server (its two slots); a third call naming it is told at once
    (412) instead of holding a thread too, and a call fetching from another server answers."""
    app = make_app(fhir_max_calls_per_server=2, request_deadline_s=8.0, fhir_timeout_s=6.0)
    with RecordingServer(delay_s=3.0) as slow, RecordingServer() as fast:
        waiting = [threading.Thread(target=_post, args=(app, slow.base_url, [])) for _ in range(2)]
        for thread in waiting:
            thread.start()
        _wait_until(lambda: sum("/Patient/" in path for path in slow.paths()) == 2)
        started = time.monotonic()
        refused = _call(app, slow.base_url)
        answered = _call(app, fast.base_url)
        elapsed = time.monotonic() - started
        for thread in waiting:
            thread.join(timeout=30)
        again = _call(app, slow.base_url)  # the slots are free again
    payload = assert_error(refused, 412)
    assert "CDS_FHIR_MAX_CALLS_PER_SERVER" in payload["issue"][0]["diagnostics"]
    assert answered.status_code == 200
    assert elapsed < 2.0, elapsed  # neither waited for the slow server's 3 s
    assert sum("/Patient/" in path for path in slow.paths()) == 3  # the refused call sent nothing
    assert again.status_code == 200


def test_a_call_with_everything_prefetched_takes_no_slot(make_app: Callable[..., Flask]) -> None:
    app = make_app(fhir_max_calls_per_server=1)
    with RecordingServer() as server, state(app).fhir_slots.hold(server.base_url):
        assert_error(_call(app, server.base_url), 412)  # the server's one slot is taken ...
        body = patient_view(JDM_PATIENT_ID, fhir_server=server.base_url)
        body["prefetch"] = {key: None for key in jdm_ivig_prefetch(["x|1"], 10)}
        body["prefetch"]["patient"] = {"resourceType": "Patient", "id": JDM_PATIENT_ID}
        response = app.test_client().post("/cds-services/jdm-ivig", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)  # ... not needed
        assert server.paths() == []


def test_a_prefetched_value_that_cannot_be_used_is_fetched_under_a_slot(
    make_app: Callable[..., Flask],
) -> None:
    """A key sent in a shape its template does not ask for is fetched instead: that call fetches,
    so it needs a slot on the server like any other."""
    app = make_app(fhir_max_calls_per_server=1)
    with RecordingServer() as server:
        body = patient_view(JDM_PATIENT_ID, fhir_server=server.base_url)
        body["prefetch"] = {key: None for key in jdm_ivig_prefetch(["x|1"], 10)}
        body["prefetch"]["patient"] = {"resourceType": "Patient", "id": JDM_PATIENT_ID}
        body["prefetch"]["observations"] = []  # a JSON array, not a searchset
        with state(app).fhir_slots.hold(server.base_url):
            busy = app.test_client().post("/cds-services/jdm-ivig", json=body)
            assert server.paths() == []
        answered = app.test_client().post("/cds-services/jdm-ivig", json=body)
    assert "CDS_FHIR_MAX_CALLS_PER_SERVER" in assert_error(busy, 412)["issue"][0]["diagnostics"]
    assert answered.status_code == 200, answered.get_data(as_text=True)
    assert [path.split("?")[0] for path in server.paths()] == ["/fhir/Observation"]


def _call(app: Flask, server_url: str) -> Any:
    body = patient_view(JDM_PATIENT_ID, fhir_server=server_url)
    return app.test_client().post("/cds-services/jdm-ivig", json=body)


def _post(app: Flask, server_url: str, out: list[Any]) -> None:
    out.append(_call(app, server_url))


def _wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    give_up_at = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < give_up_at, "the condition never came true"
        time.sleep(0.01)
