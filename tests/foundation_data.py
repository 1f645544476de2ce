"""Synthetic patients for the HTTP-layer tests, as FHIR transaction Bundles (ids start "found-").

``jdm_patient_bundle()`` is a child with JDM and a long record: more than 20 weight
Observations (so a search pages at sekmet's default 20 and at small ``_count``), CK values,
methotrexate and prednisolone orders, IV methylprednisolone pulses, a procedure, an immunization
and an allergy, plus an Observation whose code no template asks for (a heart rate).
``other_patient_bundle()`` is a second child, to catch data leaking across patients.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

JDM_PATIENT_ID = "found-jdm-1"
OTHER_PATIENT_ID = "found-other-1"
WEIGHT_COUNT = 25

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    resource_type, resource_id = resource["resourceType"], resource["id"]
    return {
        "fullUrl": f"urn:uuid:{resource_type}-{resource_id}",
        "resource": resource,
        "request": {"method": "PUT", "url": f"{resource_type}/{resource_id}"},
    }


def _observation(
    oid: str, patient_id: str, code: str, day: date, value: float, unit: str
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": day.isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def _medication_request(
    mid: str, patient_id: str, rxnorm: str, text: str, day: date
) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": day.isoformat(),
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": rxnorm}],
            "text": text,
        },
    }


def jdm_patient_resources(patient_id: str = JDM_PATIENT_ID) -> list[dict[str, Any]]:
    start = date(2025, 6, 2)
    subject = {"reference": f"Patient/{patient_id}"}
    resources: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": patient_id,
            "gender": "female",
            "birthDate": "2016-04-12",
        },
        {
            "resourceType": "Condition",
            "id": f"{patient_id}-jdm",
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "verificationStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "code": "confirmed",
                    }
                ]
            },
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M33.00"}]},
            "subject": subject,
            "onsetDateTime": start.isoformat(),
        },
    ]
    for week in range(WEIGHT_COUNT):
        day = start + timedelta(weeks=week)
        resources.append(
            _observation(
                f"{patient_id}-wt-{week}", patient_id, "29463-7", day, 25 + week / 10, "kg"
            )
        )
    for index, ck in enumerate((2400, 1300, 900)):
        day = start + timedelta(weeks=4 * index)
        resources.append(
            _observation(f"{patient_id}-ck-{index}", patient_id, "2157-6", day, ck, "U/L")
        )
    resources.append(_observation(f"{patient_id}-ht", patient_id, "8302-2", start, 128, "cm"))
    resources.append(_observation(f"{patient_id}-hr", patient_id, "8867-4", start, 96, "/min"))
    resources.append(
        _medication_request(f"{patient_id}-mtx", patient_id, "6851", "methotrexate", start)
    )
    resources.append(
        _medication_request(f"{patient_id}-pred", patient_id, "8638", "prednisolone", start)
    )
    for pulse in range(3):
        resources.append(
            {
                "resourceType": "MedicationAdministration",
                "id": f"{patient_id}-ivmp-{pulse}",
                "status": "completed",
                "subject": subject,
                "effectiveDateTime": (start + timedelta(days=pulse)).isoformat()
                + "T09:00:00+12:00",
                "medicationCodeableConcept": {
                    "coding": [{"system": RXNORM, "code": "6902"}],
                    "text": "methylprednisolone",
                },
                "dosage": {
                    "route": {"text": "intravenous"},
                    "dose": {"value": 750, "unit": "mg", "system": UCUM, "code": "mg"},
                },
            }
        )
    resources.append(
        {
            "resourceType": "Procedure",
            "id": f"{patient_id}-ecg",
            "status": "completed",
            "code": {
                "coding": [{"system": "http://snomed.info/sct", "code": "29303009"}],
                "text": "ECG",
            },
            "subject": subject,
            "performedDateTime": start.isoformat(),
        }
    )
    resources.append(
        {
            "resourceType": "Immunization",
            "id": f"{patient_id}-mmr",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
            "patient": subject,
            "occurrenceDateTime": "2017-05-01",
        }
    )
    resources.append(
        {
            "resourceType": "AllergyIntolerance",
            "id": f"{patient_id}-pen",
            "code": {"text": "penicillin"},
            "patient": subject,
        }
    )
    return resources


def other_patient_resources(patient_id: str = OTHER_PATIENT_ID) -> list[dict[str, Any]]:
    day = date(2025, 9, 1)
    return [
        {"resourceType": "Patient", "id": patient_id, "gender": "male", "birthDate": "2014-02-02"},
        _observation(f"{patient_id}-wt-0", patient_id, "29463-7", day, 41.0, "kg"),
        _medication_request(f"{patient_id}-mtx", patient_id, "6851", "methotrexate", day),
    ]


def transaction(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(r) for r in resources],
    }
