"""Prefetch values of an unexpected shape: not used, and never a 400 for the whole call.

Lenient with clients (cds_service/gather/prefetch_values.py, docs/prefetch.md): with `fhirServer`
the key is fetched instead, the cards are those of a well-formed request and a note for the
integrator says what happened; without one a gather note says what was not used, and only a
Patient that cannot be had at all is a 412. Strict with data: a Patient of another id is a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fhir_server import SekmetServer
from flask import Flask
from flask.testing import FlaskClient
from foundation_data import JDM_PATIENT_ID, jdm_patient_resources, transaction
from hook_requests import patient_view
from prefetch_support import SERVICE_URL, by_identity, full_prefetch, without_uuids
from recording_fhir import RecordingServer, empty_searchset
from schema_check import assert_error, assert_valid

from cds_service.app import create_app
from fhir_fixtures.clocks import frozen_clock

NOTES = "org.jdm-cds.gather-notes"
PHI = "Jane Roe"  # a name inside the bad values: no answer may repeat it
STRANGER = {"resourceType": "Practitioner", "id": "pr-1", "name": [{"text": PHI}]}


def bundle(resources: list[Any], bundle_type: str = "collection") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": bundle_type,
        "entry": [{"resource": r} for r in resources],
    }


# shape -> (value made from the well-formed value, why it is not used)
PATIENT_SHAPES: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "Bundle of the Patient and more": (
        lambda patient: bundle([patient, STRANGER]),
        "was a Bundle, not one Patient resource",
    ),
    "empty searchset": (
        lambda patient: bundle([], "searchset"),
        "was a Bundle, not one Patient resource",
    ),
    "Bundle of another type": (
        lambda patient: bundle([STRANGER]),
        "was a Bundle, not one Patient resource",
    ),
    "resource of another type": (lambda patient: STRANGER, "was not a Patient resource"),
    "JSON array": (lambda patient: [patient], "was not a FHIR resource"),
    "string": (lambda patient: f"Patient/{JDM_PATIENT_ID} {PHI}", "was not a FHIR resource"),
    "number": (lambda patient: 42, "was not a FHIR resource"),
    "object without resourceType": (
        lambda patient: {"id": JDM_PATIENT_ID, "name": [{"text": PHI}]},
        "was not a FHIR resource",
    ),
    "Patient without id": (
        lambda patient: {k: v for k, v in patient.items() if k != "id"},
        "had no id",
    ),
}

SEARCH_SHAPES: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "single resource": (
        lambda searchset: searchset["entry"][0]["resource"],
        "was not a Bundle of search results",
    ),
    "Bundle of other types": (
        lambda searchset: bundle([STRANGER, STRANGER], "searchset"),
        "held no Condition resources, only other types",
    ),
    "entries not objects": (
        lambda searchset: {"resourceType": "Bundle", "type": "searchset", "entry": [1, PHI, None]},
        "held no readable entries",
    ),
    "entries without resources": (
        lambda searchset: {"resourceType": "Bundle", "entry": [{"fullUrl": "urn:uuid:x"}]},
        "held no readable entries",
    ),
    "entry not a list": (
        lambda searchset: {**searchset, "entry": searchset["entry"][0]},
        "was a Bundle whose entries are not a list",
    ),
    "JSON array": (
        lambda searchset: [e["resource"] for e in searchset["entry"]],
        "was not a FHIR resource",
    ),
    "string": (lambda searchset: PHI, "was not a FHIR resource"),
    "number": (lambda searchset: 0, "was not a FHIR resource"),
}


@pytest.fixture(scope="module")
def loaded_server(fhir_server: SekmetServer) -> SekmetServer:
    fhir_server.load(transaction(jdm_patient_resources()))
    return fhir_server


@pytest.fixture(scope="module")
def shapes_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    store = tmp_path_factory.mktemp("shapes") / "jdm-cds.sqlite3"
    return create_app({"database_url": f"sqlite:///{store}"}, clock=frozen_clock)


@pytest.fixture(scope="module")
def well_formed(shapes_app: Flask, loaded_server: SekmetServer) -> dict[str, Any]:
    """The full prefetch a paging EHR sends, and the answer and record it gets."""
    prefetch = full_prefetch(shapes_app, loaded_server, JDM_PATIENT_ID)
    body = patient_view(JDM_PATIENT_ID, prefetch=prefetch, fhir_server=loaded_server.base_url)
    answer = assert_valid(shapes_app.test_client().post(SERVICE_URL, json=body), "HookResponse")
    assert "extension" not in answer and answer["cards"]
    return {"prefetch": prefetch, "cards": without_uuids(answer["cards"])}


@pytest.fixture
def client(shapes_app: Flask) -> Iterator[FlaskClient]:
    yield shapes_app.test_client()


def with_value(well_formed: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return {**well_formed["prefetch"], key: value}


def cases(shapes: dict[str, tuple[Callable[[dict[str, Any]], Any], str]]) -> Any:
    return pytest.mark.parametrize(("make", "why"), list(shapes.values()), ids=list(shapes))


# --- with fhirServer: fetched instead, cards as normal ---------------------------------------


@cases(PATIENT_SHAPES)
def test_an_unusable_patient_is_fetched_and_the_cards_are_as_normal(
    client: FlaskClient,
    loaded_server: SekmetServer,
    well_formed: dict[str, Any],
    spy: dict[str, Any],
    make: Callable[[dict[str, Any]], Any],
    why: str,
) -> None:
    prefetch = with_value(well_formed, "patient", make(well_formed["prefetch"]["patient"]))
    body = patient_view(JDM_PATIENT_ID, prefetch=prefetch, fhir_server=loaded_server.base_url)
    response = client.post(SERVICE_URL, json=body)
    answer = assert_valid(response, "HookResponse")
    assert without_uuids(answer["cards"]) == well_formed["cards"]
    assert answer["extension"][NOTES] == [
        f"Patient prefetch {why}: fetched from the FHIR server instead"
    ]
    assert spy["notes"] == []  # nothing the cards rest on is missing
    assert by_identity(spy["resources"]) == by_identity(well_formed["prefetch"].values())
    assert PHI not in response.get_data(as_text=True)


@cases(SEARCH_SHAPES)
def test_an_unusable_search_result_is_fetched_and_the_cards_are_as_normal(
    client: FlaskClient,
    loaded_server: SekmetServer,
    well_formed: dict[str, Any],
    spy: dict[str, Any],
    make: Callable[[dict[str, Any]], Any],
    why: str,
) -> None:
    prefetch = with_value(well_formed, "conditions", make(well_formed["prefetch"]["conditions"]))
    body = patient_view(JDM_PATIENT_ID, prefetch=prefetch, fhir_server=loaded_server.base_url)
    response = client.post(SERVICE_URL, json=body)
    answer = assert_valid(response, "HookResponse")
    assert without_uuids(answer["cards"]) == well_formed["cards"]
    assert answer["extension"][NOTES] == [
        f"Condition prefetch {why}: fetched from the FHIR server instead"
    ]
    assert spy["notes"] == []
    assert by_identity(spy["resources"]) == by_identity(well_formed["prefetch"].values())
    assert PHI not in response.get_data(as_text=True)


# --- without fhirServer: a note; 412 only without a Patient -------------------------------------


@cases(PATIENT_SHAPES)
def test_an_unusable_patient_without_a_server_is_412_saying_why(
    client: FlaskClient,
    well_formed: dict[str, Any],
    make: Callable[[dict[str, Any]], Any],
    why: str,
) -> None:
    prefetch = with_value(well_formed, "patient", make(well_formed["prefetch"]["patient"]))
    response = client.post(SERVICE_URL, json=patient_view(JDM_PATIENT_ID, prefetch=prefetch))
    outcome = assert_error(response, 412, "incomplete")
    diagnostics = [issue["diagnostics"] for issue in outcome["issue"]]
    assert f"Patient prefetch {why}: not used" in diagnostics[0]
    assert diagnostics[1:] == ["missing: patient"]
    assert PHI not in response.get_data(as_text=True)


@cases(SEARCH_SHAPES)
def test_an_unusable_search_result_without_a_server_is_a_note(
    client: FlaskClient,
    well_formed: dict[str, Any],
    spy: dict[str, Any],
    make: Callable[[dict[str, Any]], Any],
    why: str,
) -> None:
    prefetch = with_value(well_formed, "conditions", make(well_formed["prefetch"]["conditions"]))
    response = client.post(SERVICE_URL, json=patient_view(JDM_PATIENT_ID, prefetch=prefetch))
    answer = assert_valid(response, "HookResponse")
    note = f"Condition prefetch {why}: not used"
    assert answer["extension"][NOTES] == [note] == spy["notes"]
    assert not any(r.get("resourceType") == "Condition" for r in spy["resources"])
    assert PHI not in response.get_data(as_text=True)


def test_the_note_reaches_the_data_quality_card(
    client: FlaskClient, well_formed: dict[str, Any]
) -> None:
    medications = well_formed["prefetch"]["medicationStatements"]
    prefetch = with_value(well_formed, "medicationStatements", [medications])
    response = client.post(SERVICE_URL, json=patient_view(JDM_PATIENT_ID, prefetch=prefetch))
    cards = assert_valid(response, "HookResponse")["cards"]
    quality = [c for c in cards if c["source"]["topic"]["code"] == "data-quality"]
    assert len(quality) == 1
    assert "MedicationStatement prefetch was not a FHIR resource: not used" in quality[0]["detail"]


# --- what is used as sent ------------------------------------------------------------------------


@pytest.mark.parametrize("bundle_type", ["collection", "searchset"])
def test_a_bundle_of_exactly_the_patient_is_used_as_the_patient(
    client: FlaskClient, well_formed: dict[str, Any], spy: dict[str, Any], bundle_type: str
) -> None:
    """HealthChain's sandbox client sends {"patient": Bundle(collection, [Patient])}."""
    patient = well_formed["prefetch"]["patient"]
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "information"}]}
    wrapped = bundle([patient, outcome], bundle_type)
    with RecordingServer() as server:
        body = patient_view(
            JDM_PATIENT_ID,
            prefetch=with_value(well_formed, "patient", wrapped),
            fhir_server=server.base_url,
        )
        answer = assert_valid(client.post(SERVICE_URL, json=body), "HookResponse")
        assert server.paths() == []
    assert without_uuids(answer["cards"]) == well_formed["cards"]
    assert "extension" not in answer
    assert patient in spy["resources"]  # taken out of its Bundle


def test_a_patient_of_another_id_in_a_bundle_is_400(
    client: FlaskClient, well_formed: dict[str, Any]
) -> None:
    other = {**well_formed["prefetch"]["patient"], "id": "someone-else"}
    body = patient_view(
        JDM_PATIENT_ID, prefetch=with_value(well_formed, "patient", bundle([other]))
    )
    outcome = assert_error(client.post(SERVICE_URL, json=body), 400, "invalid")
    assert (
        "prefetch.patient: id does not match context.patientId"
        in outcome["issue"][0]["diagnostics"]
    )


def test_an_empty_searchset_is_a_search_that_found_nothing(
    client: FlaskClient, well_formed: dict[str, Any], spy: dict[str, Any]
) -> None:
    empty = {"resourceType": "Bundle", "type": "searchset", "total": 0}
    with RecordingServer() as server:
        body = patient_view(
            JDM_PATIENT_ID,
            prefetch=with_value(well_formed, "allergies", empty),
            fhir_server=server.base_url,
        )
        answer = assert_valid(client.post(SERVICE_URL, json=body), "HookResponse")
        assert server.paths() == []
    assert "extension" not in answer


def test_a_searchset_with_a_stray_entry_is_used_and_the_entry_named(
    client: FlaskClient, well_formed: dict[str, Any], spy: dict[str, Any]
) -> None:
    """Strict with data: the readable Conditions are used, the broken entry is a data-quality
    note of the record (not a gather note), and nothing is fetched again."""
    conditions = well_formed["prefetch"]["conditions"]
    with_stray = {**conditions, "entry": [*conditions["entry"], "not an entry", {"resource": []}]}
    with RecordingServer() as server:
        body = patient_view(
            JDM_PATIENT_ID,
            prefetch=with_value(well_formed, "conditions", with_stray),
            fhir_server=server.base_url,
        )
        cards = assert_valid(client.post(SERVICE_URL, json=body), "HookResponse")["cards"]
        assert server.paths() == []
    assert spy["notes"] == []
    assert any(c["source"]["topic"]["code"] == "data-quality" for c in cards)
    assert by_identity(spy["resources"]) == by_identity(well_formed["prefetch"].values())


def test_when_the_fetch_that_replaces_a_value_fails_both_are_said(
    client: FlaskClient, well_formed: dict[str, Any], spy: dict[str, Any]
) -> None:
    def conditions_fail(path: str) -> tuple[int, Any]:
        return (500, {}) if path.startswith("/fhir/Condition") else empty_searchset(path)

    with RecordingServer(conditions_fail) as server:
        body = patient_view(
            JDM_PATIENT_ID,
            prefetch=with_value(well_formed, "conditions", [1, 2]),
            fhir_server=server.base_url,
        )
        answer = assert_valid(client.post(SERVICE_URL, json=body), "HookResponse")
    expected = [
        "Condition prefetch was not a FHIR resource: not used",
        "Condition: FHIR server answered 500",
    ]
    assert answer["extension"][NOTES] == expected == spy["notes"]


@pytest.mark.parametrize("prefetch", [[], "patient", 1, None])
def test_a_prefetch_that_is_not_an_object_is_400(client: FlaskClient, prefetch: Any) -> None:
    body = patient_view(JDM_PATIENT_ID)
    body["prefetch"] = prefetch
    outcome = assert_error(client.post(SERVICE_URL, json=body), 400, "invalid")
    assert outcome["issue"][0]["diagnostics"].startswith("prefetch: must be of type")
