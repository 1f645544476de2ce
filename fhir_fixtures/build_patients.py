"""Build the synthetic patients under fhir_fixtures/patients/ as FHIR transaction Bundles.

Every date is written relative to the fixtures' frozen clock, 2026-03-15T10:00 Pacific/Auckland
(NZDT, +13:00), so the records stay "recent" for that clock; `jdm-cds demo` shifts them to today.
Each patient is a readable story plus noise a real chart holds (vitals, unrelated labs, other
drugs, superseded orders, old conditions). The expected history of each is the hand-reviewed
``<name>.history.json`` beside it.

    .venv/bin/python -m fhir_fixtures.build_patients        # rewrite the bundles (repo root)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fhir_fixtures.clocks import SCENARIO_NOW

NOW = SCENARIO_NOW
OUT = Path(__file__).resolve().parent / "patients"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
SCORES = "https://jdm-cds.example.org/fhir/CodeSystem/muscle-strength-scores"
IV = (SNOMED, "47625008", "Intravenous route")
SC = (SNOMED, "34206005", "Subcutaneous route")
ORAL = (SNOMED, "26643006", "Oral route")
Resource = dict[str, Any]


def day(days_before_now: float, hour: int = 9) -> str:
    """A dateTime `days_before_now` days before the clock, at `hour` local time."""
    moment = (NOW - timedelta(days=days_before_now)).replace(hour=hour, minute=0)
    return moment.isoformat()


def date_only(days_before_now: float) -> str:
    return (NOW - timedelta(days=days_before_now)).date().isoformat()


def codeable(system: str, code: str, display: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": system, "code": code, "display": display}]}
    if text:
        concept["text"] = text
    return concept


class Chart:
    """Collects one patient's resources; ids are `<patient>-<kind>-<n>`."""

    def __init__(self, patient_id: str):
        self.patient_id = patient_id
        self.resources: list[Resource] = []
        self._counter = 0

    def add(self, resource: Resource, kind: str | None = None) -> Resource:
        if "id" not in resource:
            self._counter += 1
            resource["id"] = (
                f"{self.patient_id}-{kind or resource['resourceType'].lower()}-{self._counter}"
            )
        self.resources.append(resource)
        return resource

    @property
    def subject(self) -> dict[str, str]:
        return {"reference": f"Patient/{self.patient_id}"}

    def patient(self, birth_date: str, gender: str, **extra: Any) -> None:
        self.add(
            {
                "resourceType": "Patient",
                "id": self.patient_id,
                "birthDate": birth_date,
                "gender": gender,
                "name": [{"family": "Synthetic", "given": ["Test"]}],
                **extra,
            }
        )

    def condition(
        self,
        code: tuple[str, str, str],
        onset_days: float | None,
        status: str = "active",
        verification: str = "confirmed",
        **extra: Any,
    ) -> Resource:
        resource: Resource = {
            "resourceType": "Condition",
            "clinicalStatus": codeable(
                "http://terminology.hl7.org/CodeSystem/condition-clinical", status, status
            ),
            "verificationStatus": codeable(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                verification,
                verification,
            ),
            "code": codeable(*code),
            "subject": self.subject,
            **extra,
        }
        if onset_days is not None:
            resource["onsetDateTime"] = date_only(onset_days)
            resource["recordedDate"] = day(onset_days - 1)
        return self.add(resource, "condition")

    def observation(
        self,
        code: tuple[str, str, str],
        days: float,
        value: float | None,
        unit: str,
        status: str = "final",
        low: float | None = None,
        high: float | None = None,
        **extra: Any,
    ) -> Resource:
        resource: Resource = {
            "resourceType": "Observation",
            "status": status,
            "code": codeable(*code),
            "subject": self.subject,
            "effectiveDateTime": day(days),
        }
        if value is not None:
            resource["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
        if low is not None or high is not None:
            bounds: dict[str, Any] = {}
            if low is not None:
                bounds["low"] = {"value": low, "unit": unit, "system": UCUM, "code": unit}
            if high is not None:
                bounds["high"] = {"value": high, "unit": unit, "system": UCUM, "code": unit}
            resource["referenceRange"] = [bounds]
        resource.update(extra)
        return self.add(resource, "obs")

    def weight(self, days: float, kg: float, **extra: Any) -> Resource:
        return self.observation((LOINC, "29463-7", "Body weight"), days, kg, "kg", **extra)

    def height(self, days: float, cm: float) -> Resource:
        return self.observation((LOINC, "8302-2", "Body height"), days, cm, "cm")

    def score(self, kind: str, days: float, value: int) -> Resource:
        display = {
            "cmas": "Childhood Myositis Assessment Scale total score",
            "mmt8": "Manual Muscle Testing 8 total score",
        }[kind]
        return self.observation((SCORES, kind, display), days, value, "{score}")

    def administration(
        self,
        medication: dict[str, Any],
        days: float,
        dose: float,
        unit: str,
        route: tuple[str, str, str],
        status: str = "completed",
        **extra: Any,
    ) -> Resource:
        resource: Resource = {
            "resourceType": "MedicationAdministration",
            "status": status,
            **medication,
            "subject": self.subject,
            "effectiveDateTime": day(days),
            "dosage": {
                "route": codeable(*route),
                "dose": {"value": dose, "unit": unit, "system": UCUM, "code": unit},
            },
            **extra,
        }
        return self.add(resource, "admin")

    def order(
        self,
        medication: dict[str, Any],
        start_days: float,
        dose: float,
        unit: str,
        route: tuple[str, str, str],
        frequency: tuple[int, int, str],
        status: str = "active",
        end_days: float | None = None,
        prior: str | None = None,
        **extra: Any,
    ) -> Resource:
        count, period, period_unit = frequency
        bounds: dict[str, str] = {"start": date_only(start_days)}
        if end_days is not None:
            bounds["end"] = date_only(end_days)
        resource: Resource = {
            "resourceType": "MedicationRequest",
            "status": status,
            "intent": "order",
            **medication,
            "subject": self.subject,
            "authoredOn": day(start_days, hour=8),
            "dosageInstruction": [
                {
                    "timing": {
                        "repeat": {
                            "boundsPeriod": bounds,
                            "frequency": count,
                            "period": period,
                            "periodUnit": period_unit,
                        }
                    },
                    "route": codeable(*route),
                    "doseAndRate": [
                        {
                            "doseQuantity": {
                                "value": dose,
                                "unit": unit,
                                "system": UCUM,
                                "code": unit,
                            }
                        }
                    ],
                }
            ],
            **extra,
        }
        if prior:
            resource["priorPrescription"] = {"reference": f"MedicationRequest/{prior}"}
        return self.add(resource, "order")

    def procedure(
        self, code: tuple[str, str, str], days: float, status: str = "completed"
    ) -> Resource:
        return self.add(
            {
                "resourceType": "Procedure",
                "status": status,
                "code": codeable(*code),
                "subject": self.subject,
                "performedDateTime": day(days),
            },
            "proc",
        )

    def immunization(self, code: tuple[str, str, str], days: float) -> Resource:
        return self.add(
            {
                "resourceType": "Immunization",
                "status": "completed",
                "vaccineCode": codeable(*code),
                "patient": self.subject,
                "occurrenceDateTime": date_only(days),
            },
            "imm",
        )

    def encounter(self, days: float) -> Resource:
        return self.add(
            {
                "resourceType": "Encounter",
                "status": "finished",
                "class": {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "AMB",
                },
                "subject": self.subject,
                "period": {"start": day(days), "end": day(days, hour=10)},
            },
            "enc",
        )

    def bundle(self) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": f"urn:jdm-cds:{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
                }
                for r in self.resources
            ],
        }


def med(system: str, code: str, display: str) -> dict[str, Any]:
    return {"medicationCodeableConcept": codeable(system, code, display)}


METHYLPRED = med(RXNORM, "6902", "methylprednisolone")
PREDNISOLONE = med(RXNORM, "8638", "prednisolone")
METHOTREXATE = med(RXNORM, "6851", "methotrexate")
IVIG = {"medicationCodeableConcept": {"text": "Immune globulin intravenous (human) 10% (Privigen)"}}
PARACETAMOL = med(RXNORM, "161", "acetaminophen")
FOLIC_ACID = {"medicationCodeableConcept": {"text": "Folic acid 5 mg tablet"}}
OMEPRAZOLE = med(RXNORM, "7646", "omeprazole")
JDM = (ICD10, "M33.02", "Juvenile dermatomyositis with myopathy")
WEAKNESS = (SNOMED, "249939004", "Proximal muscle weakness (finding)")
DYSPHAGIA = (ICD10, "R13.12", "Dysphagia, oropharyngeal phase")
ASTHMA = (ICD10, "J45.909", "Unspecified asthma, uncomplicated")
CK = (LOINC, "2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma")
ALDOLASE = (LOINC, "1761-6", "Aldolase [Enzymatic activity/volume] in Serum or Plasma")
CRP = (LOINC, "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma")
SODIUM = (LOINC, "2951-2", "Sodium [Moles/volume] in Serum or Plasma")
HEART_RATE = (LOINC, "8867-4", "Heart rate")


def background(chart: Chart, years: int = 3) -> None:
    """Years of ordinary care: clinic vitals, a few unrelated labs, an old condition, vaccines."""
    for visit in range(years * 2):
        days = 400 + visit * 182
        chart.encounter(days)
        chart.observation(HEART_RATE, days, 92 - visit, "/min")
        chart.observation(SODIUM, days, 139, "mmol/L", low=135, high=145)
    chart.condition(ASTHMA, 1500, status="resolved")
    chart.add(
        {
            "resourceType": "MedicationRequest",
            "status": "completed",
            "intent": "order",
            **PARACETAMOL,
            "subject": chart.subject,
            "authoredOn": day(900),
        },
        "order",
    )
    chart.immunization((CVX, "03", "measles, mumps and rubella virus vaccine"), 2600)
    chart.immunization((CVX, "141", "Influenza, seasonal, injectable"), 500)


def seed_case() -> Chart:
    """The seed: a girl of 9 y 4 m, 26 kg, JDM since mid-December; 3 IV methylprednisolone
    pulses of 30 mg/kg, prednisolone from 2 mg/kg/day tapering, 4 weekly SC methotrexate doses
    of 15 mg/m2; still weak, and dysphagia for 10 days."""
    chart = Chart("seed-jdm")
    chart.patient("2016-11-02", "female")
    background(chart)
    chart.weight(1100, 21.8)
    chart.height(1100, 121.0)
    chart.weight(600, 23.9)
    chart.height(600, 127.5)
    chart.condition(JDM, 97)
    chart.condition(WEAKNESS, 105)
    chart.condition(DYSPHAGIA, 10)
    chart.condition((SNOMED, "233703007", "Interstitial lung disease"), 95, verification="refuted")
    # diagnosis work-up, 97 days ago
    chart.weight(97, 26.4)
    chart.height(97, 132.0)
    chart.observation(CK, 97, 4200, "U/L", low=40, high=200)
    chart.observation(ALDOLASE, 97, 16.2, "U/L", high=7.5)
    chart.procedure((LOINC, "24702-3", "MR Thigh"), 100)
    chart.procedure((SNOMED, "29303009", "Electrocardiographic procedure"), 96)
    chart.procedure((SNOMED, "40701008", "Echocardiography"), 96)
    # three IV methylprednisolone pulses, 30 mg/kg on 26.4 kg = 792 mg each
    for offset in (95, 94, 93):
        chart.administration(METHYLPRED, offset, 30, "mg/kg", IV)
    # oral prednisolone: 2 mg/kg/day (26.4 kg -> 52.8 mg/day), then 40 and 30 mg/day
    first = chart.order(PREDNISOLONE, 92, 2, "mg/kg/d", ORAL, (1, 1, "d"), status="stopped")
    chart.weight(59, 26.2)
    chart.observation(CK, 59, 1800, "U/L", low=40, high=200)
    second = chart.order(
        PREDNISOLONE, 50, 40, "mg", ORAL, (1, 1, "d"), status="stopped", prior=first["id"]
    )
    chart.weight(24, 26.1)
    chart.height(24, 132.6)
    chart.order(PREDNISOLONE, 22, 30, "mg", ORAL, (1, 1, "d"), prior=second["id"])
    # methotrexate: an oral order replaced the same day by a subcutaneous one (no double count)
    oral_mtx = chart.order(METHOTREXATE, 24, 15, "mg", ORAL, (1, 1, "wk"), status="stopped")
    chart.order(METHOTREXATE, 24, 15, "mg/m2", SC, (1, 1, "wk"), prior=oral_mtx["id"])
    for offset in (24, 17, 10, 3):
        chart.administration(METHOTREXATE, offset, 15, "mg/m2", SC)
    chart.order(FOLIC_ACID, 24, 5, "mg", ORAL, (1, 1, "wk"))
    chart.order(OMEPRAZOLE, 92, 10, "mg", ORAL, (1, 1, "d"))
    # clinic 5 days ago: still weak
    chart.weight(5, 26.0)
    chart.observation(CK, 5, 950, "U/L", low=40, high=200)
    chart.observation(CRP, 5, 4.1, "mg/L", high=5)
    chart.score("cmas", 5, 28)
    chart.score("mmt8", 5, 58)
    return chart


def responding() -> Chart:
    """A boy of 11 diagnosed 13 months ago, treated first-line and now in inactive disease:
    weakness resolved, CMAS 50 / MMT-8 79, prednisolone stopped, weekly methotrexate still
    ordered (given at home: expected doses only, no administrations)."""
    chart = Chart("responding-jdm")
    chart.patient("2014-09-20", "male")
    background(chart)
    chart.condition(JDM, 400)
    chart.condition(WEAKNESS, 410, status="resolved", abatementDateTime=date_only(200))
    chart.weight(400, 34.0)
    chart.height(400, 141.0)
    for offset in (398, 397, 396):
        chart.administration(METHYLPRED, offset, 1, "g", IV)
    first = chart.order(PREDNISOLONE, 395, 60, "mg", ORAL, (1, 1, "d"), status="stopped")
    chart.order(
        PREDNISOLONE,
        300,
        20,
        "mg",
        ORAL,
        (1, 1, "d"),
        status="completed",
        prior=first["id"],
        end_days=60,
    )
    chart.order(METHOTREXATE, 394, 20, "mg", SC, (1, 1, "wk"))
    chart.weight(30, 36.5)
    chart.height(30, 146.0)
    chart.observation(CK, 30, 110, "U/L", low=40, high=200)
    chart.score("cmas", 30, 50)
    chart.score("mmt8", 30, 79)
    return chart


def ivig_three_courses() -> Chart:
    """A girl of 12 on IVIG after failing first-line: three monthly courses of 1 g/kg on two
    days (IVIG named by text only: no verified RxNorm code exists), still weak (CMAS 30)."""
    chart = Chart("ivig-weak")
    chart.patient("2013-10-01", "female")
    background(chart, years=2)
    chart.condition(JDM, 300)
    chart.condition(WEAKNESS, 300)
    chart.weight(90, 30.0)
    chart.height(90, 142.0)
    chart.order(METHOTREXATE, 280, 15, "mg", SC, (1, 1, "wk"))
    chart.order(PREDNISOLONE, 280, 20, "mg", ORAL, (1, 1, "d"))
    for start in (84, 56, 28):
        chart.weight(start + 1, 30.0)
        for offset in (start, start - 1):
            chart.administration(IVIG, offset, 1, "g/kg", IV)
    chart.score("cmas", 7, 30)
    chart.score("mmt8", 7, 60)
    return chart


def weight_in_pounds() -> Chart:
    """Weights as an American clinic records them: the newest valid one in pounds; a newer one
    entered in error (ignored); one in stones (no exact UCUM conversion is used: a note); one
    preliminary (kept, flagged)."""
    chart = Chart("pounds-jdm")
    chart.patient("2017-05-04", "female")
    chart.condition(JDM, 60)
    chart.weight(60, 24.0)
    chart.observation((LOINC, "29463-7", "Body weight"), 20, 55, "[lb_av]")
    chart.observation((LOINC, "8302-2", "Body height"), 20, 50, "[in_i]")
    chart.observation((LOINC, "29463-7", "Body weight"), 10, 3.9, "[stone_av]")
    chart.weight(8, 42.0, status="entered-in-error")
    chart.weight(6, 25.5, status="preliminary")
    chart.administration(METHYLPRED, 58, 30, "mg/kg", IV)
    return chart


def hostile() -> Chart:
    """Everything that must not reach a card: another patient's data, a malformed resource, a
    value-less Observation, unknown codes, a mg/m2 dose with no height, a dose with no route, an
    eye-drop steroid, an out-of-range score, a stale version of a resource, a missing Medication."""
    chart = Chart("hostile-jdm")
    chart.patient("2015-02-14", "female")
    chart.condition(JDM, 120)
    chart.condition(DYSPHAGIA, 10)
    chart.weight(12, 28.0, id="hostile-weight-versioned", meta={"versionId": "2"})
    chart.weight(12, 82.0, id="hostile-weight-versioned", meta={"versionId": "1"})
    other = Chart("someone-else")
    chart.add(other.weight(3, 61.0))
    chart.add(other.condition((ICD10, "M33.2", "Polymyositis"), 50))
    chart.observation(CK, 11, None, "U/L")
    chart.observation(CK, 11, 900, "U/L", id="hostile-ck-malformed", valueString="high")
    chart.observation((LOINC, "99999-9", "Unknown local test"), 11, 1, "U/L")
    chart.score("cmas", 11, 60)
    chart.order(METHOTREXATE, 30, 15, "mg/m2", SC, (1, 1, "wk"))
    chart.add(
        {
            "resourceType": "MedicationAdministration",
            "status": "completed",
            **METHYLPRED,
            "subject": chart.subject,
            "effectiveDateTime": day(40),
            "dosage": {"dose": {"value": 500, "unit": "mg", "system": UCUM, "code": "mg"}},
        },
        "admin",
    )
    chart.add(
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            **METHYLPRED,
            "subject": chart.subject,
            "effectiveDateTime": day(45),
            "dosage": [
                {
                    "doseAndRate": [
                        {
                            "doseQuantity": {
                                "value": 30,
                                "unit": "mg/kg",
                                "system": UCUM,
                                "code": "mg/kg",
                            }
                        }
                    ]
                }
            ],
        },
        "statement",
    )
    chart.order(
        med(RXNORM, "8638", "prednisolone acetate 1% eye drops"),
        20,
        1,
        "mg",
        (SNOMED, "54485002", "Ophthalmic route"),
        (4, 1, "d"),
    )
    chart.add(
        {
            "resourceType": "MedicationAdministration",
            "status": "completed",
            "medicationReference": {"reference": "Medication/not-in-record"},
            "subject": chart.subject,
            "effectiveDateTime": day(15),
        },
        "admin",
    )
    chart.add(
        {
            "resourceType": "Condition",
            "code": codeable(*WEAKNESS),
            "clinicalStatus": codeable(
                "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "active"
            ),
        },
        "condition",
    )
    return chart


PATIENTS: dict[str, Callable[[], Chart]] = {
    "seed-case": seed_case,
    "responding": responding,
    "ivig-three-courses": ivig_three_courses,
    "weight-in-pounds": weight_in_pounds,
    "hostile": hostile,
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in PATIENTS.items():
        bundle = build().bundle()
        path = OUT / f"{name}.bundle.json"
        path.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{path}: {len(bundle['entry'])} resources")  # noqa: T201


if __name__ == "__main__":
    main()
