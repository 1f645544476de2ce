"""FHIR R4 resource builders for the synthetic records of bench/generate.py.

One :class:`Record` per patient: stable ids, dates relative to `now`, every resource valid R4B.
The code systems and codes are the ones the service's value sets use (cards/valuesets), plus
"noise" codes a JDM service has no use for, as a real chart holds.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COND_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
# CMAS / MMT-8 have no LOINC code: the project's local code system (see cards/valuesets)
LOCAL_SCORES = "https://jdm-cds.example.org/fhir/CodeSystem/myositis-scores"

ROUTE_IV = (SNOMED, "47625008", "Intravenous route")
ROUTE_SC = (SNOMED, "34206005", "Subcutaneous route")
ROUTE_ORAL = (SNOMED, "26643006", "Oral route")

# (concept, LOINC, display, UCUM unit, normal low, normal high, value when JDM is active)
LAB_PANEL: tuple[tuple[str, str, str, str, float, float, float], ...] = (
    ("ck", "2157-6", "Creatine kinase", "U/L", 40, 200, 2400),
    ("aldolase", "1761-6", "Aldolase", "U/L", 1, 7.5, 14),
    ("ldh", "2532-0", "Lactate dehydrogenase", "U/L", 120, 300, 620),
    ("ast", "1920-8", "Aspartate aminotransferase", "U/L", 10, 40, 110),
    ("alt", "1742-6", "Alanine aminotransferase", "U/L", 8, 35, 70),
    ("esr", "4537-7", "Erythrocyte sedimentation rate", "mm/h", 2, 15, 38),
    ("crp", "1988-5", "C reactive protein", "mg/L", 0.2, 5, 12),
    ("hemoglobin", "718-7", "Hemoglobin", "g/dL", 11.5, 14.5, 11.2),
    ("platelets", "777-3", "Platelets", "10*9/L", 180, 400, 430),
    ("creatinine", "2160-0", "Creatinine", "umol/L", 25, 55, 30),
)
# lab and vital codes a JDM service has no use for (a real chart is mostly these)
NOISE_LABS: tuple[tuple[str, str, str, float, float], ...] = (
    ("2951-2", "Sodium", "mmol/L", 135, 145),
    ("2823-3", "Potassium", "mmol/L", 3.5, 5.0),
    ("2345-7", "Glucose", "mg/dL", 70, 110),
    ("6690-2", "Leukocytes", "10*9/L", 4.5, 11),
)
NOISE_VITALS: tuple[tuple[str, str, str, float, float], ...] = (
    ("8867-4", "Heart rate", "/min", 70, 110),
    ("9279-1", "Respiratory rate", "/min", 16, 24),
    ("8310-5", "Body temperature", "Cel", 36.4, 37.3),
    ("59408-5", "Oxygen saturation by pulse oximetry", "%", 96, 100),
)
NOISE_MEDS: tuple[tuple[str, str, str], ...] = (
    ("161", "acetaminophen", "oral"),
    ("7646", "omeprazole", "oral"),
    ("5640", "ibuprofen", "oral"),
)


def _coding(code: tuple[str, str, str]) -> dict[str, str]:
    system, value, display = code
    return {"system": system, "code": value, "display": display}


class Record:
    """Builds one patient's resources with stable ids and dates relative to `now`."""

    def __init__(self, patient_id: str, now: datetime, seed: int) -> None:
        self.patient_id = patient_id
        self.now = now
        self.rng = random.Random(seed)
        self.resources: list[dict[str, Any]] = []
        self._counter = 0
        self.birth = (now - timedelta(days=int(9.4 * 365.25))).date()

    # --- helpers ------------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self.patient_id}-{self._counter}"

    def _subject(self) -> dict[str, str]:
        return {"reference": f"Patient/{self.patient_id}"}

    def _when(self, days_ago: float, hour: int = 9) -> str:
        moment = self.now - timedelta(days=days_ago)
        moment = moment.replace(hour=hour, minute=self.rng.randrange(0, 60), second=0)
        return moment.isoformat(timespec="seconds")

    def add(self, resource: dict[str, Any]) -> dict[str, Any]:
        self.resources.append(resource)
        return resource

    def age_years(self, days_ago: float) -> float:
        moment = (self.now - timedelta(days=days_ago)).date()
        return (moment - self.birth).days / 365.25

    # --- resources ----------------------------------------------------------------------------
    def patient(self) -> None:
        self.add(
            {
                "resourceType": "Patient",
                "id": self.patient_id,
                "name": [{"family": "Synthetic", "given": ["Bench"]}],
                "gender": "female",
                "birthDate": self.birth.isoformat(),
            }
        )

    def condition(
        self,
        codings: Sequence[tuple[str, str, str]],
        days_ago: float,
        *,
        active: bool = True,
    ) -> None:
        status = "active" if active else "resolved"
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "id": self._id("cond"),
            "clinicalStatus": {"coding": [{"system": COND_CLINICAL, "code": status}]},
            "verificationStatus": {"coding": [{"system": COND_VERIFICATION, "code": "confirmed"}]},
            "code": {
                "coding": [{"system": s, "code": c, "display": d} for s, c, d in codings],
                "text": codings[0][2],
            },
            "subject": self._subject(),
            "onsetDateTime": self._when(days_ago),
            "recordedDate": self._when(days_ago),
        }
        if not active:
            resource["abatementDateTime"] = self._when(max(days_ago - 10, 0))
        self.add(resource)

    def quantity_obs(
        self,
        system: str,
        code: str,
        display: str,
        value: float,
        unit: str,
        days_ago: float,
        category: str = "laboratory",
    ) -> None:
        self.add(
            {
                "resourceType": "Observation",
                "id": self._id("obs"),
                "status": "final",
                "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
                "code": {"coding": [{"system": system, "code": code, "display": display}]},
                "subject": self._subject(),
                "effectiveDateTime": self._when(days_ago),
                "valueQuantity": {
                    "value": round(value, 1),
                    "unit": unit,
                    "system": UCUM,
                    "code": unit,
                },
            }
        )

    def medication_request(
        self,
        rx: tuple[str, str],
        days_ago: float,
        dose_text: str,
        dose: tuple[float, str],
        route: tuple[str, str, str],
        *,
        status: str = "active",
        frequency: tuple[int, float, str] = (1, 1, "d"),
        end_days_ago: float | None = None,
    ) -> str:
        rx_code, rx_display = rx
        timing: dict[str, Any] = {
            "frequency": frequency[0],
            "period": frequency[1],
            "periodUnit": frequency[2],
            "boundsPeriod": {"start": self._when(days_ago)},
        }
        if end_days_ago is not None:
            timing["boundsPeriod"]["end"] = self._when(end_days_ago)
        request_id = self._id("medrx")
        self.add(
            {
                "resourceType": "MedicationRequest",
                "id": request_id,
                "status": status,
                "intent": "order",
                "medicationCodeableConcept": {
                    "coding": [{"system": RXNORM, "code": rx_code, "display": rx_display}],
                    "text": rx_display,
                },
                "subject": self._subject(),
                "authoredOn": self._when(days_ago),
                "dosageInstruction": [
                    {
                        "text": dose_text,
                        "timing": {"repeat": timing},
                        "route": {"coding": [_coding(route)]},
                        "doseAndRate": [
                            {
                                "doseQuantity": {
                                    "value": dose[0],
                                    "unit": dose[1],
                                    "system": UCUM,
                                    "code": dose[1],
                                }
                            }
                        ],
                    }
                ],
            }
        )
        return request_id

    def administration(
        self,
        rx: tuple[str, str],
        days_ago: float,
        dose: tuple[float, str],
        route: tuple[str, str, str],
        request_id: str | None = None,
    ) -> None:
        resource: dict[str, Any] = {
            "resourceType": "MedicationAdministration",
            "id": self._id("medadmin"),
            "status": "completed",
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": rx[0], "display": rx[1]}],
                "text": rx[1],
            },
            "subject": self._subject(),
            "effectiveDateTime": self._when(days_ago, hour=10),
            "dosage": {
                "route": {"coding": [_coding(route)]},
                "dose": {"value": dose[0], "unit": dose[1], "system": UCUM, "code": dose[1]},
            },
        }
        if request_id is not None:
            resource["request"] = {"reference": f"MedicationRequest/{request_id}"}
        self.add(resource)

    def procedure(self, code: str, display: str, days_ago: float) -> None:
        self.add(
            {
                "resourceType": "Procedure",
                "id": self._id("proc"),
                "status": "completed",
                "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
                "subject": self._subject(),
                "performedDateTime": self._when(days_ago),
            }
        )

    def immunization(self, cvx: str, display: str, days_ago: float) -> None:
        self.add(
            {
                "resourceType": "Immunization",
                "id": self._id("imm"),
                "status": "completed",
                "vaccineCode": {"coding": [{"system": CVX, "code": cvx, "display": display}]},
                "patient": self._subject(),
                "occurrenceDateTime": self._when(days_ago),
            }
        )

    def allergy(self) -> None:
        self.add(
            {
                "resourceType": "AllergyIntolerance",
                "id": self._id("allergy"),
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {"coding": [{"system": RXNORM, "code": "7980", "display": "penicillin G"}]},
                "patient": self._subject(),
                "criticality": "low",
            }
        )
