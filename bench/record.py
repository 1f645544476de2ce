"""One synthetic patient's chart for bench/generate.py, built with :mod:`fhir_fixtures.builders`.

One :class:`Record` per patient: stable ids, dates relative to `now` (minutes drawn from the
record's seeded random source), every resource valid R4B. The codes are the value sets' (a chart's
own short displays aside), plus "noise" codes a JDM service has no use for, as a real chart holds.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from fhir_fixtures import builders as b
from fhir_fixtures.builders import Code

# (concept, code with the short name a lab report shows, UCUM unit, normal low, normal high,
#  value when JDM is active)
LAB_PANEL: tuple[tuple[str, Code, str, float, float, float], ...] = (
    ("ck", b.CK.shown_as("Creatine kinase"), "U/L", 40, 200, 2400),
    ("aldolase", b.ALDOLASE.shown_as("Aldolase"), "U/L", 1, 7.5, 14),
    ("ldh", b.LDH.shown_as("Lactate dehydrogenase"), "U/L", 120, 300, 620),
    ("ast", b.AST.shown_as("Aspartate aminotransferase"), "U/L", 10, 40, 110),
    ("alt", b.ALT.shown_as("Alanine aminotransferase"), "U/L", 8, 35, 70),
    ("esr", b.ESR.shown_as("Erythrocyte sedimentation rate"), "mm/h", 2, 15, 38),
    ("crp", b.CRP.shown_as("C reactive protein"), "mg/L", 0.2, 5, 12),
    ("hemoglobin", b.HEMOGLOBIN.shown_as("Hemoglobin"), "g/dL", 11.5, 14.5, 11.2),
    ("platelets", b.PLATELETS.shown_as("Platelets"), "10*9/L", 180, 400, 430),
    ("creatinine", b.CREATININE.shown_as("Creatinine"), "umol/L", 25, 55, 30),
)
# lab and vital codes a JDM service has no use for (a real chart is mostly these)
NOISE_LABS: tuple[tuple[Code, str, float, float], ...] = (
    (b.SODIUM.shown_as("Sodium"), "mmol/L", 135, 145),
    (b.POTASSIUM.shown_as("Potassium"), "mmol/L", 3.5, 5.0),
    (b.GLUCOSE.shown_as("Glucose"), "mg/dL", 70, 110),
    (b.LEUKOCYTES.shown_as("Leukocytes"), "10*9/L", 4.5, 11),
)
NOISE_VITALS: tuple[tuple[Code, str, float, float], ...] = (
    (b.HEART_RATE, "/min", 70, 110),
    (b.RESPIRATORY_RATE, "/min", 16, 24),
    (b.BODY_TEMPERATURE, "Cel", 36.4, 37.3),
    (b.OXYGEN_SATURATION, "%", 96, 100),
)
NOISE_MEDS: tuple[tuple[Code, str], ...] = (
    (b.ACETAMINOPHEN, "oral"),
    (b.OMEPRAZOLE, "oral"),
    (b.IBUPROFEN, "oral"),
)


def medication(code: Code) -> dict[str, Any]:
    """A medicationCodeableConcept: the code, and its name as text."""
    return b.concept(code, text=code.display)


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
            b.patient(
                self.patient_id,
                name=[b.human_name("Synthetic", "Bench")],
                gender="female",
                birth_date=self.birth.isoformat(),
            )
        )

    def condition(self, codes: Sequence[Code], days_ago: float, *, active: bool = True) -> None:
        self.add(
            b.condition(
                self._id("cond"),
                self.patient_id,
                b.concept(*codes, text=codes[0].display),
                clinical_status="active" if active else "resolved",
                verification_status="confirmed",
                onset=self._when(days_ago),
                recorded=self._when(days_ago),
                abated=None if active else self._when(max(days_ago - 10, 0)),
            )
        )

    def quantity_obs(
        self, code: Code, value: float, unit: str, days_ago: float, category: str = "laboratory"
    ) -> None:
        self.add(
            b.observation(
                self._id("obs"),
                self.patient_id,
                b.concept(code),
                effective=self._when(days_ago),
                category=category,
                value_quantity=b.quantity(round(value, 1), unit),
            )
        )

    def medication_request(
        self,
        rx: Code,
        days_ago: float,
        dose_text: str,
        dose: tuple[float, str],
        route: Code,
        *,
        status: str = "active",
        frequency: tuple[int, float, str] = (1, 1, "d"),
        end_days_ago: float | None = None,
    ) -> str:
        start = self._when(days_ago)
        end = None if end_days_ago is None else self._when(end_days_ago)
        timing = b.timing(*frequency)
        timing["repeat"]["boundsPeriod"] = b.period(start, end)  # last, as the records always had
        request_id = self._id("medrx")
        self.add(
            b.medication_request(
                request_id,
                self.patient_id,
                medication(rx),
                authored=self._when(days_ago),
                status=status,
                dosage=[
                    b.dosage(
                        text=dose_text,
                        timing=timing,
                        route=b.concept(route),
                        dose=b.quantity(*dose),
                    )
                ],
            )
        )
        return request_id

    def administration(
        self,
        rx: Code,
        days_ago: float,
        dose: tuple[float, str],
        route: Code,
        request_id: str | None = None,
    ) -> None:
        request = (
            {} if request_id is None else {"request": b.reference("MedicationRequest", request_id)}
        )
        self.add(
            b.medication_administration(
                self._id("medadmin"),
                self.patient_id,
                medication(rx),
                effective=self._when(days_ago, hour=10),
                dosage=b.administration_dosage(route=b.concept(route), dose=b.quantity(*dose)),
                **request,
            )
        )

    def procedure(self, code: Code, days_ago: float) -> None:
        self.add(
            b.procedure(
                self._id("proc"), self.patient_id, b.concept(code), performed=self._when(days_ago)
            )
        )

    def immunization(self, vaccine: Code, days_ago: float) -> None:
        self.add(
            b.immunization(
                self._id("imm"), self.patient_id, b.concept(vaccine), occurred=self._when(days_ago)
            )
        )

    def allergy(self) -> None:
        allergy = b.allergy_intolerance(
            self._id("allergy"),
            self.patient_id,
            b.concept(b.PENICILLIN_G),
            clinical_status="active",
        )
        allergy["criticality"] = "low"  # after the patient, as the records always had it
        self.add(allergy)
