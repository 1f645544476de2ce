"""A realistic large chart for the history performance test and bench/history.py: years of vitals
and labs, mostly noise (made on the fly, not a file).

Mix for 3,000 resources over four years: ~55 % vitals (heart rate, blood pressure, temperature,
respiratory rate, SpO2), ~20 % unrelated labs (sodium, potassium, glucose, white cells ...),
~14 % JDM-relevant labs and scores, ~4 % weights and heights, the rest orders, administrations,
conditions, immunizations and procedures, as in a paediatric rheumatology patient's chart.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from fhir_fixtures.clocks import SCENARIO_NOW as NOW

PATIENT = "p1"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
VITALS = [
    ("8867-4", "/min", 70, 120),
    ("9279-1", "/min", 16, 28),
    ("8310-5", "Cel", 36.2, 37.8),
    ("59408-5", "%", 95, 100),
    ("8480-6", "mm[Hg]", 95, 120),
    ("8462-4", "mm[Hg]", 55, 80),
]
OTHER_LABS = [
    ("2951-2", "mmol/L", 135, 145),
    ("2823-3", "mmol/L", 3.5, 5),
    ("2345-7", "mg/dL", 70, 110),
    ("6690-2", "10*9/L", 4, 11),
    ("2075-0", "mmol/L", 98, 107),
    ("3094-0", "mg/dL", 7, 20),
    ("1751-7", "g/dL", 3.5, 5),
]
JDM_LABS = [
    ("2157-6", "U/L", 40, 4000),
    ("1742-6", "U/L", 10, 120),
    ("1920-8", "U/L", 10, 150),
    ("2532-0", "U/L", 150, 700),
    ("1988-5", "mg/L", 0.5, 20),
    ("4537-7", "mm/h", 2, 40),
    ("718-7", "g/dL", 10, 14),
    ("777-3", "10*9/L", 150, 450),
    ("2160-0", "umol/L", 25, 50),
]
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def chart(size: int, seed: int = 4) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    resources: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": PATIENT, "birthDate": "2014-06-01", "gender": "female"}
    ]
    subject = {"reference": f"Patient/{PATIENT}"}

    def when(max_days: int = 1460) -> str:
        moment = NOW - timedelta(days=rng.uniform(1, max_days))
        return moment.replace(microsecond=0).isoformat()

    def obs(code: str, unit: str, low: float, high: float) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": f"o{len(resources)}",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "subject": subject,
            "effectiveDateTime": when(),
            "valueQuantity": {
                "value": round(rng.uniform(low, high), 1),
                "unit": unit,
                "system": UCUM,
                "code": unit,
            },
        }

    kinds = ["vital"] * 55 + ["other"] * 20 + ["jdm"] * 14 + ["body"] * 4 + ["med"] * 6 + ["cond"]
    while len(resources) < size:
        kind = rng.choice(kinds)
        if kind == "vital":
            resources.append(obs(*rng.choice(VITALS)))
        elif kind == "other":
            resources.append(obs(*rng.choice(OTHER_LABS)))
        elif kind == "jdm":
            resources.append(obs(*rng.choice(JDM_LABS)))
        elif kind == "body":
            resources.append(
                rng.choice([obs("29463-7", "kg", 25, 40), obs("8302-2", "cm", 125, 150)])
            )
        elif kind == "med":
            code = rng.choice(["161", "7646", "6851", "8638", "5640", "4511"])
            resources.append(
                {
                    "resourceType": "MedicationRequest",
                    "id": f"m{len(resources)}",
                    "intent": "order",
                    "status": rng.choice(["active", "completed", "stopped"]),
                    "subject": subject,
                    "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
                    "authoredOn": when(),
                    "dosageInstruction": [
                        {
                            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                            "doseAndRate": [
                                {
                                    "doseQuantity": {
                                        "value": 10,
                                        "unit": "mg",
                                        "system": UCUM,
                                        "code": "mg",
                                    }
                                }
                            ],
                        }
                    ],
                }
            )
        else:
            resources.append(
                {
                    "resourceType": "Condition",
                    "id": f"c{len(resources)}",
                    "subject": subject,
                    "clinicalStatus": {"coding": [{"code": "active"}]},
                    "code": {
                        "coding": [
                            {
                                "system": "http://hl7.org/fhir/sid/icd-10-cm",
                                "code": rng.choice(["J45.909", "M33.02", "L20.9"]),
                            }
                        ]
                    },
                }
            )
    return resources
