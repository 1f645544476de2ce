"""A realistic large chart for the history performance test and bench/history.py: years of vitals
and labs, mostly noise, built with :mod:`fhir_fixtures.builders` (made on the fly, not a file).

Mix for 3,000 resources over four years: ~55 % vitals (heart rate, blood pressure, temperature,
respiratory rate, SpO2), ~20 % unrelated labs (sodium, potassium, glucose, white cells ...),
~14 % JDM-relevant labs and scores, ~4 % weights and heights, the rest orders, administrations,
conditions, immunizations and procedures, as in a paediatric rheumatology patient's chart. Codes
carry no display, as many lab feeds send them; every Observation is filed as a vital sign.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from fhir_fixtures import builders as b
from fhir_fixtures.builders import Code
from fhir_fixtures.clocks import SCENARIO_NOW

PATIENT = "p1"
# (code, UCUM unit, low, high)
VITALS = [
    (b.HEART_RATE, "/min", 70, 120),
    (b.RESPIRATORY_RATE, "/min", 16, 28),
    (b.BODY_TEMPERATURE, "Cel", 36.2, 37.8),
    (b.OXYGEN_SATURATION, "%", 95, 100),
    (b.SYSTOLIC_BP, "mm[Hg]", 95, 120),
    (b.DIASTOLIC_BP, "mm[Hg]", 55, 80),
]
OTHER_LABS = [
    (b.SODIUM, "mmol/L", 135, 145),
    (b.POTASSIUM, "mmol/L", 3.5, 5),
    (b.GLUCOSE, "mg/dL", 70, 110),
    (b.LEUKOCYTES, "10*9/L", 4, 11),
    (b.CHLORIDE, "mmol/L", 98, 107),
    (b.UREA_NITROGEN, "mg/dL", 7, 20),
    (b.ALBUMIN, "g/dL", 3.5, 5),
]
JDM_LABS = [
    (b.CK, "U/L", 40, 4000),
    (b.ALT, "U/L", 10, 120),
    (b.AST, "U/L", 10, 150),
    (b.LDH, "U/L", 150, 700),
    (b.CRP, "mg/L", 0.5, 20),
    (b.ESR, "mm/h", 2, 40),
    (b.HEMOGLOBIN, "g/dL", 10, 14),
    (b.PLATELETS, "10*9/L", 150, 450),
    (b.CREATININE, "umol/L", 25, 50),
]
MEDICATIONS = [
    b.ACETAMINOPHEN,
    b.OMEPRAZOLE,
    b.METHOTREXATE,
    b.PREDNISOLONE,
    b.IBUPROFEN,
    b.FOLIC_ACID,
]
CONDITIONS = [b.ASTHMA, b.JDM, b.ATOPIC_DERMATITIS]


def chart(size: int, seed: int = 4) -> list[dict[str, Any]]:
    """`size` resources of patient ``p1`` (the same chart for the same size and seed)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    resources: list[dict[str, Any]] = [b.patient(PATIENT, gender="female", birth_date="2014-06-01")]

    def when(max_days: int = 1460) -> str:
        moment = SCENARIO_NOW - timedelta(days=rng.uniform(1, max_days))
        return moment.replace(microsecond=0).isoformat()

    def obs(code: Code, unit: str, low: float, high: float) -> dict[str, Any]:
        return b.observation(
            f"o{len(resources)}",
            PATIENT,
            b.concept(code.shown_as(None)),
            category="vital-signs",
            effective=when(),
            value_quantity=b.quantity(round(rng.uniform(low, high), 1), unit),
        )

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
                rng.choice([obs(b.WEIGHT, "kg", 25, 40), obs(b.HEIGHT, "cm", 125, 150)])
            )
        elif kind == "med":
            code = rng.choice(MEDICATIONS)
            resources.append(
                b.medication_request(
                    f"m{len(resources)}",
                    PATIENT,
                    b.concept(code.shown_as(None)),
                    status=rng.choice(["active", "completed", "stopped"]),
                    authored=when(),
                    dosage=[b.dosage(timing=b.timing(1, 1, "d"), dose=b.quantity(10, "mg"))],
                )
            )
        else:
            resources.append(
                b.condition(
                    f"c{len(resources)}",
                    PATIENT,
                    b.concept(rng.choice(CONDITIONS).shown_as(None)),
                    clinical_status="active",
                )
            )
    return resources
