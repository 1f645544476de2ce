"""Small FHIR resource builders for the therapy-history tests (frozen clock: NOW)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cds_service.config import REPO_ROOT
from fhir_fixtures.clocks import SCENARIO_NOW

NOW = SCENARIO_NOW
PATIENTS_DIR = REPO_ROOT / "fhir_fixtures" / "patients"
VALUESETS_DIR = REPO_ROOT / "cards" / "valuesets"
PATIENT = "p1"
UCUM = "http://unitsofmeasure.org"


def patient(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": PATIENT, "birthDate": "2016-11-02", **extra}


def observation(
    rid: str,
    system: str,
    code: str,
    value: Any,
    unit: str | None = "kg",
    at: str = "2026-03-10",
    status: str = "final",
    subject: str = PATIENT,
    **extra: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "status": status,
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{subject}"},
        "effectiveDateTime": at,
        **extra,
    }
    if value is not None:
        quantity: dict[str, Any] = {"value": value}
        if unit is not None:
            quantity.update({"unit": unit, "system": UCUM, "code": unit})
        resource["valueQuantity"] = quantity
    return resource


def weight(
    rid: str, value: Any, unit: str = "kg", at: str = "2026-03-10", **extra: Any
) -> dict[str, Any]:
    return observation(rid, "http://loinc.org", "29463-7", value, unit, at, **extra)


def height(rid: str, value: Any, unit: str = "cm", at: str = "2026-03-10") -> dict[str, Any]:
    return observation(rid, "http://loinc.org", "8302-2", value, unit, at)


def medication(code: str | None = None, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if code:
        concept["coding"] = [
            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": code}
        ]
    if text:
        concept["text"] = text
    return {"medicationCodeableConcept": concept}


def administration(
    rid: str,
    med: dict[str, Any],
    at: str,
    dose: float,
    unit: str,
    route: str | None = "47625008",
    status: str = "completed",
) -> dict[str, Any]:
    dosage: dict[str, Any] = {"dose": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}
    if route:
        dosage["route"] = {"coding": [{"system": "http://snomed.info/sct", "code": route}]}
    return {
        "resourceType": "MedicationAdministration",
        "id": rid,
        "status": status,
        **med,
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": at,
        "dosage": dosage,
    }


def order(
    rid: str,
    med: dict[str, Any],
    start: str,
    dose: float,
    unit: str,
    frequency: tuple[int, int, str] = (1, 1, "d"),
    status: str = "active",
    route: str = "26643006",
    **extra: Any,
) -> dict[str, Any]:
    count, period, period_unit = frequency
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        **med,
        "subject": {"reference": f"Patient/{PATIENT}"},
        "authoredOn": start,
        "dosageInstruction": [
            {
                "timing": {
                    "repeat": {
                        "boundsPeriod": {"start": start},
                        "frequency": count,
                        "period": period,
                        "periodUnit": period_unit,
                    }
                },
                "route": {"coding": [{"system": "http://snomed.info/sct", "code": route}]},
                "doseAndRate": [
                    {"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}
                ],
            }
        ],
        **extra,
    }


def condition(
    rid: str,
    system: str,
    code: str,
    clinical: str | None = "active",
    verification: str = "confirmed",
    **extra: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": rid,
        "code": {"coding": [{"system": system, "code": code}]},
        "verificationStatus": {"coding": [{"code": verification}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        **extra,
    }
    if clinical:
        resource["clinicalStatus"] = {"coding": [{"code": clinical}]}
    return resource


def load_bundle(name: str) -> dict[str, Any]:
    return json.loads((PATIENTS_DIR / f"{name}.bundle.json").read_text(encoding="utf-8"))


def golden(name: str) -> Path:
    return PATIENTS_DIR / f"{name}.history.json"
