"""Records the project did not write (fhir_fixtures/real/README.md): public Synthea patients and
the US Core, FHIR R4, UK Core and Epic-shaped examples, through the live app on both paths.

None of these patients has juvenile dermatomyositis, so none may get a card, and no record may
make the service fail: every answer is a 200. Each is posted with a prefetch built from its own
resources, and again with no prefetch and ``fhirServer`` pointing at a real FHIR server (sekmet)
loaded with it. The Synthea transaction Bundles (every reference an ``urn:uuid``) are also read
as they are, the way ``jdm-cds evaluate`` reads a file: the history must hold what they record.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service.app import create_app
from cds_service.config import REPO_ROOT
from cds_service.knowledge.loader import Knowledge, load_knowledge
from cds_service.pipeline import history_of

REAL = REPO_ROOT / "fhir_fixtures" / "real"
SYNTHEA = sorted((REAL / "synthea").glob("*.json"))
# Synthea's dates end in early 2021: the clock of a visit soon after
CORPUS_NOW = datetime(2021, 4, 15, 10, 0, tzinfo=ZoneInfo("America/New_York"))
SERVICE_URL = "/cds-services/jdm-ivig"


def _read(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _example_charts() -> dict[str, list[dict[str, Any]]]:
    """The example resources of each folder, grouped by the patient they name ("folder:id")."""
    charts: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((REAL / "examples").glob("*/*.json")):
        resource = _read(path)
        if resource["resourceType"] in ("Patient", "Medication"):
            continue  # added to every chart of its folder below
        subject = resource.get("subject") or resource.get("patient") or {}
        match = re.fullmatch(r"Patient/([A-Za-z0-9.\-]+)", subject.get("reference", ""))
        if match is None:
            continue  # an example naming its patient by a Bundle address it does not carry
        charts.setdefault(f"{path.parent.name}:{match[1]}", []).append(resource)
    for key, resources in charts.items():
        folder = REAL / "examples" / key.split(":")[0]
        for path in sorted(folder.glob("*.json")):
            shared = _read(path)
            if shared["resourceType"] == "Medication":
                resources.append(shared)
    return charts


EXAMPLES = _example_charts()


@pytest.fixture(scope="module")
def corpus_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    store = tmp_path_factory.mktemp("corpus-store") / "jdm-cds.sqlite3"
    settings = {"database_url": f"sqlite:///{store}", "public_base_url": "http://jdm-cds.test"}
    return create_app(settings, clock=lambda: CORPUS_NOW)


@pytest.fixture(scope="module")
def corpus_client(corpus_app: Flask) -> FlaskClient:
    return corpus_app.test_client()


@pytest.fixture(scope="module")
def prefetch_keys(corpus_client: FlaskClient) -> dict[str, str]:
    """FHIR resource type -> the service's prefetch key, from discovery."""
    discovery = corpus_client.get("/cds-services").get_json()
    service = next(s for s in discovery["services"] if s["id"] == "jdm-ivig")
    return {
        re.split(r"[/?]", template, maxsplit=1)[0]: key
        for key, template in service["prefetch"].items()
    }


def _resources(document: dict[str, Any]) -> list[dict[str, Any]]:
    if document.get("resourceType") == "Bundle":
        return [entry["resource"] for entry in document.get("entry", []) if "resource" in entry]
    return [document]


def _request(
    patient_id: str, resources: list[dict[str, Any]], keys: dict[str, str]
) -> dict[str, Any]:
    """A patient-view call whose prefetch holds `resources`, one searchset per key."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    prefetch: dict[str, Any] = {}
    for resource_type, key in keys.items():
        found = by_type.get(resource_type, [])
        if resource_type == "Patient":
            patient = next((r for r in found if r.get("id") == patient_id), None)
            prefetch[key] = patient or {"resourceType": "Patient", "id": patient_id}
            continue
        if resource_type == "MedicationRequest":  # their Medications come as _include
            found = found + by_type.get("Medication", [])
        prefetch[key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [{"resource": r} for r in found],
        }
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/corpus", "patientId": patient_id},
        "prefetch": prefetch,
    }


def _synthea_patient(document: dict[str, Any]) -> str:
    return next(r["id"] for r in _resources(document) if r["resourceType"] == "Patient")


def _no_cards(response: Any) -> list[str]:
    if response.status_code != 200:
        return [f"HTTP {response.status_code}: {response.get_data(as_text=True)[:300]}"]
    cards = response.get_json()["cards"]
    return [f"card {card['summary']!r}" for card in cards]


@pytest.mark.parametrize("path", SYNTHEA, ids=lambda p: p.stem.split("_")[0])
def test_synthea_patient_with_prefetch_gets_no_card(
    path: Path, corpus_client: FlaskClient, prefetch_keys: dict[str, str]
) -> None:
    document = _read(path)
    request = _request(_synthea_patient(document), _resources(document), prefetch_keys)
    assert _no_cards(corpus_client.post(SERVICE_URL, json=request)) == []


@pytest.mark.parametrize("key", sorted(EXAMPLES))
def test_example_chart_with_prefetch_gets_no_card(
    key: str, corpus_client: FlaskClient, prefetch_keys: dict[str, str]
) -> None:
    patient_id = key.split(":", 1)[1]
    request = _request(patient_id, copy.deepcopy(EXAMPLES[key]), prefetch_keys)
    assert _no_cards(corpus_client.post(SERVICE_URL, json=request)) == []


@pytest.fixture(scope="module")
def loaded_server(fhir_server: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    """The session's FHIR server holding the Synthea patients; file stem -> server patient id
    (Synthea's transactions POST, so the server gives each resource its own id)."""
    ids: dict[str, str] = {}
    for path in SYNTHEA:
        answer = fhir_server.load(_read(path))
        locations = [entry["response"]["location"] for entry in answer["entry"]]
        patient = next(loc for loc in locations if re.search(r"(^|/)Patient/", loc))
        ids[path.stem] = patient.split("Patient/", 1)[1].split("/")[0]
    yield fhir_server, ids


@pytest.mark.parametrize("path", SYNTHEA, ids=lambda p: p.stem.split("_")[0])
def test_synthea_patient_through_the_fetch_path_gets_no_card(
    path: Path, corpus_client: FlaskClient, loaded_server: tuple[Any, dict[str, str]]
) -> None:
    server, ids = loaded_server
    request = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": server.base_url,
        "context": {"userId": "Practitioner/corpus", "patientId": ids[path.stem]},
    }
    response = corpus_client.post(SERVICE_URL, json=request)
    assert _no_cards(response) == []
    assert "extension" not in response.get_json(), "nothing may be cut short or fail"


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(REPO_ROOT / "cards")


def test_synthea_bundles_read_as_files_keep_what_they_record(knowledge: Knowledge) -> None:
    """Every reference is an urn:uuid: the children's weights and heights must all be read."""
    for path in SYNTHEA:
        document = _read(path)
        patient = _synthea_patient(document)
        history = history_of([document], patient, knowledge, CORPUS_NOW)
        recorded = [
            r
            for r in _resources(document)
            if r["resourceType"] == "Observation"
            and r["code"]["coding"][0]["code"] in ("29463-7", "8302-2")
        ]
        read = history.series("weight") + history.series("height")
        assert history.patient.birth_date is not None, path.name
        assert len(read) >= min(len(recorded), 2), path.name
        assert not [n for n in history.data_quality if n.category == "other-patient"], path.name
