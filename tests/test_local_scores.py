"""Strength scores coded the way EHRs record them reach the cards, by prefetch and by fetch.

CMAS has no LOINC code (docs/clinical/codes.md): an EHR records it as a flowsheet row under a
local code (Epic: its flowsheet-id system; Cerner: a code of its own code set), which the value
set cards/valuesets/cmas.json matches by name. The Observation code filter cannot name such codes;
the assessment-category key ``scoreObservations`` (docs/prefetch.md) brings them in.

The chart is the fixture boundary-ivig-start-cmas-14-red-flag with its CMAS recoded, beside two
other rows of the same categories that match no value set (a pain score under a local code, a
PHQ-2 under LOINC). CMAS 14 is a red flag, so IVIG is advised after only six weeks of
methotrexate; without the CMAS no ``ivig-start`` card fires at all.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir_server import SekmetServer
from flask import Flask
from hook_requests import patient_view
from prefetch_support import SERVICE_URL, by_identity, full_prefetch
from schema_check import assert_valid

from cds_service.app import create_app

SCENARIO = Path(__file__).resolve().parent.parent / "fhir_fixtures" / "scenarios"
BASE = "boundary-ivig-start-cmas-14-red-flag"
BASE_PREFIX = "dc4cd914"
SCENARIO_NOW = datetime(2026, 3, 15, 10, 0, tzinfo=ZoneInfo("Pacific/Auckland"))
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
EPIC_FLOWSHEET = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"

# vendor -> (id prefix, category, the CMAS coding as that EHR sends it)
VENDORS: dict[str, tuple[str, str, dict[str, str]]] = {
    "epic-flowsheet-row": (
        "lsepic01",
        "survey",
        {"system": EPIC_FLOWSHEET, "code": "12345", "display": "CMAS total score"},
    ),
    "cerner-code-set": (
        "lscern01",
        "exam",
        {
            "system": "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/72",
            "code": "2700123451",
            "display": "Childhood Myositis Assessment Scale",
        },
    ),
}


def category(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": code}]}]


def chart(vendor: str) -> tuple[str, list[dict[str, Any]]]:
    """The base fixture under new ids, its CMAS coded as `vendor` codes it, and two rows of
    the same categories that match no value set."""
    prefix, category_code, coding = VENDORS[vendor]
    text = (SCENARIO / BASE / "bundle.json").read_text().replace(BASE_PREFIX, prefix)
    resources = [entry["resource"] for entry in json.loads(text)["entry"]]
    cmas = next(r for r in resources if r["id"] == f"{prefix}-cmas")
    cmas["code"] = {"coding": [coding], "text": coding["display"]}
    cmas["category"] = category(category_code)
    others = [
        ("pain", {"system": EPIC_FLOWSHEET, "code": "54321", "display": "Pain score (0-10)"}, 3),
        ("phq2", {"system": "http://loinc.org", "code": "55758-7", "display": "PHQ-2 total"}, 1),
    ]
    for name, other_coding, value in others:
        resources.append(
            {
                **{k: v for k, v in cmas.items() if k not in {"id", "code", "valueQuantity"}},
                "id": f"{prefix}-{name}",
                "code": {"coding": [other_coding]},
                "valueQuantity": {"value": value},
            }
        )
    return f"{prefix}-pat", resources


def transaction(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
            for r in resources
        ],
    }


@pytest.fixture(scope="module")
def scores_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    store = tmp_path_factory.mktemp("local-scores") / "jdm-cds.sqlite3"
    return create_app({"database_url": f"sqlite:///{store}"}, clock=lambda: SCENARIO_NOW)


@pytest.fixture(scope="module")
def loaded_server(fhir_server: SekmetServer) -> SekmetServer:
    for vendor in VENDORS:
        fhir_server.load(transaction(chart(vendor)[1]))
    return fhir_server


def assert_cmas_reached_the_cards(answer: dict[str, Any], prefix: str) -> None:
    cards = answer["cards"]
    ivig = [c for c in cards if c["source"]["topic"]["code"] == "ivig-start"]
    assert len(ivig) == 1, [c["summary"] for c in cards]
    assert ivig[0]["indicator"] == "critical"
    evidence = ivig[0]["extension"]["org.jdm-cds.evidence"]
    cmas = f"Observation/{prefix}-cmas"
    assert cmas in evidence["resources"]
    assert {"name": "cmas", "value": "14", "source": cmas}.items() <= next(
        fact for fact in evidence["facts"] if fact.get("source") == cmas
    ).items()
    cited = json.dumps(cards)
    assert f"{prefix}-pain" not in cited and f"{prefix}-phq2" not in cited
    assert not any(c["source"]["topic"]["code"] == "data-quality" for c in cards)
    assert "extension" not in answer


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_a_locally_coded_cmas_reaches_the_cards_by_prefetch(
    scores_app: Flask, loaded_server: SekmetServer, vendor: str
) -> None:
    """The prefetch an EHR builds by running the discovery templates against its own server."""
    patient_id, _resources = chart(vendor)
    prefix = VENDORS[vendor][0]
    prefetch = full_prefetch(scores_app, loaded_server, patient_id)
    assert f"Observation/{prefix}-cmas" not in by_identity([prefetch["observations"]])
    assert f"Observation/{prefix}-cmas" in by_identity([prefetch["scoreObservations"]])
    response = scores_app.test_client().post(
        SERVICE_URL, json=patient_view(patient_id, prefetch=prefetch)
    )
    assert_cmas_reached_the_cards(assert_valid(response, "HookResponse"), prefix)


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_a_locally_coded_cmas_reaches_the_cards_by_fetch(
    scores_app: Flask, loaded_server: SekmetServer, vendor: str
) -> None:
    patient_id, _resources = chart(vendor)
    body = patient_view(patient_id, fhir_server=loaded_server.base_url)
    response = scores_app.test_client().post(SERVICE_URL, json=body)
    assert_cmas_reached_the_cards(assert_valid(response, "HookResponse"), VENDORS[vendor][0])


def test_without_the_score_key_the_locally_coded_cmas_is_missed(
    scores_app: Flask, loaded_server: SekmetServer
) -> None:
    """The control: the code-filtered Observations alone do not carry it, and nothing fires."""
    patient_id, _resources = chart("epic-flowsheet-row")
    prefetch = {**full_prefetch(scores_app, loaded_server, patient_id), "scoreObservations": None}
    response = scores_app.test_client().post(
        SERVICE_URL, json=patient_view(patient_id, prefetch=prefetch)
    )
    cards = assert_valid(response, "HookResponse")["cards"]
    assert not any(c["source"]["topic"]["code"] == "ivig-start" for c in cards)


def test_a_cmas_item_row_is_not_read_as_the_total(
    scores_app: Flask, loaded_server: SekmetServer
) -> None:
    """A flowsheet that records the CMAS items as rows of their own: an item scored 3 (of 4)
    must not be taken for a total of 3, a red flag (cmas.json name-exclude: item wording)."""
    patient_id, resources = chart("epic-flowsheet-row")
    prefetch = full_prefetch(scores_app, loaded_server, patient_id)
    cmas = next(r for r in resources if r["id"].endswith("-cmas"))
    item = {
        **cmas,
        "id": "lsepic01-cmas-item-1",
        "code": {
            "coding": [
                {"system": EPIC_FLOWSHEET, "code": "12346", "display": "CMAS head elevation"}
            ]
        },
        "valueQuantity": {"value": 3},
    }
    total = {**cmas, "valueQuantity": {"value": 47}}  # weakness, no red flag
    prefetch["scoreObservations"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": total}, {"resource": item}],
    }
    response = scores_app.test_client().post(
        SERVICE_URL, json=patient_view(patient_id, prefetch=prefetch)
    )
    cards = assert_valid(response, "HookResponse")["cards"]
    assert "lsepic01-cmas-item-1" not in json.dumps(cards)
