"""Draft orders for card suggestions: valid R4B resources, exactly as docs/clinical/card-contract.md
says."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service.card_builder.drafts import ivig_medication_request, json_number
from cds_service.card_builder.order_set_drafts import draft_service_requests
from cds_service.dosing import DosingPolicy, ivig_course_dose, load_dosing_policy
from cds_service.history.model import Measurement, SourceRef
from cds_service.knowledge.loader import load_knowledge
from cds_service.knowledge.order_sets import load_order_sets

CARDS = Path(__file__).resolve().parents[2] / "cards"


@pytest.fixture(scope="module")
def order_sets() -> Any:
    return load_order_sets(CARDS / "order-sets")


@pytest.fixture(scope="module")
def policy() -> DosingPolicy:
    return load_dosing_policy(CARDS / "dosing.json")


def _weight(kg: str) -> Measurement:
    at = datetime(2026, 3, 10, 9, 0, tzinfo=timezone(timedelta(hours=13)))
    return Measurement(
        "weight",
        Decimal(kg),
        "kg",
        at,
        "final",
        None,
        None,
        f"{kg} kg",
        SourceRef("Observation", "w-3"),
    )


def test_baseline_drafts_are_valid_service_requests(order_sets: Any) -> None:
    drafts = draft_service_requests(order_sets["ivig-baseline"], "pat-7")
    service_items = [i for i in order_sets["ivig-baseline"].items if i.kind == "ServiceRequest"]
    assert len(drafts) == len(service_items) == 20
    for draft in drafts:
        request = ServiceRequest.model_validate(draft)
        assert (request.status, request.intent) == ("draft", "proposal")
        assert request.subject.reference == "Patient/pat-7"
        assert request.code.text
    # JSON-serialisable as is (no Decimals, no mapping proxies)
    json.dumps(drafts)


def test_only_selects_items_and_keeps_order(order_sets: Any) -> None:
    drafts = draft_service_requests(
        order_sets["ivig-baseline"], "p1", only={"iga", "blood-group", "creatinine"}
    )
    codes = [draft["code"]["coding"][0]["code"] for draft in drafts]
    assert codes == ["882-1", "2160-0", "2458-8"]  # the order set's order, not the set's


def test_unknown_item_or_bad_patient_id_is_refused(order_sets: Any) -> None:
    with pytest.raises(KeyError, match="igg"):
        draft_service_requests(order_sets["ivig-baseline"], "p1", only={"igg"})
    for bad in ("", "a/b", "x" * 65, "p 1", "p1\n"):
        with pytest.raises(ValueError):
            draft_service_requests(order_sets["ivig-baseline"], bad)


def test_medication_items_are_not_drafted_as_service_requests(order_sets: Any) -> None:
    drafts = draft_service_requests(order_sets["ivig-infusion"], "p1")
    assert [d["code"]["text"] for d in drafts] == [
        "Vital signs: heart rate, blood pressure, temperature, respiratory rate, oxygen saturation"
    ]


def test_ivig_draft_matches_the_card_contract(policy: DosingPolicy) -> None:
    dose = ivig_course_dose(_weight("26"), policy, risk_5_day=False, risk_slow_rate=False)
    draft = ivig_medication_request(dose, "pat-7", load_knowledge(CARDS).texts)
    request = MedicationRequest.model_validate(draft)
    assert (request.status, request.intent) == ("draft", "proposal")
    assert request.subject.reference == "Patient/pat-7"
    medication = draft["medicationCodeableConcept"]
    assert medication["text"] == "immune globulin (IVIG) 10%"
    assert medication["coding"][0]["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert medication["coding"][0]["extension"][0]["valueCode"] == "candidate"
    dosage = draft["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"] == {
        "value": 26,
        "unit": "g",
        "system": "http://unitsofmeasure.org",
        "code": "g",
    }
    assert dosage["timing"]["repeat"] == {
        "frequency": 1,
        "period": 1,
        "periodUnit": "d",
        "count": 2,
    }
    assert dosage["route"]["coding"][0]["code"] == "47625008"
    assert "0.04 mL/kg/min (62.4 mL/h)" in dosage["text"]


def test_ivig_draft_five_day_split_and_decimal_dose(policy: DosingPolicy) -> None:
    dose = ivig_course_dose(_weight("26"), policy, risk_5_day=True, risk_slow_rate=True)
    draft = ivig_medication_request(dose, "p1", load_knowledge(CARDS).texts)
    MedicationRequest.model_validate(draft)
    dosage = draft["dosageInstruction"][0]
    assert dosage["timing"]["repeat"]["count"] == 5
    assert json.dumps(dosage["doseAndRate"][0]["doseQuantity"]["value"]) == "10.4"
    assert "0.03 mL/kg/min" in dosage["text"]


def test_json_number_keeps_the_decimal_text() -> None:
    assert json.dumps(json_number(Decimal("52.0"))) == "52"
    assert json.dumps(json_number(Decimal("10.4"))) == "10.4"
    assert json.dumps(json_number(Decimal("0.1"))) == "0.1"
    with pytest.raises(ValueError):
        json_number(Decimal("0.1000000000000000000000001"))
