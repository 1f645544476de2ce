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

from fhir_fixtures import builders as b
from fhir_fixtures.builders import Code
from fhir_fixtures.clocks import SCENARIO_NOW

NOW = SCENARIO_NOW
OUT = Path(__file__).resolve().parent / "patients"
IV, SC, ORAL = b.ROUTE_IV, b.ROUTE_SC, b.ROUTE_ORAL
Resource = dict[str, Any]


def day(days_before_now: float, hour: int = 9) -> str:
    """A dateTime `days_before_now` days before the clock, at `hour` local time."""
    moment = (NOW - timedelta(days=days_before_now)).replace(hour=hour, minute=0)
    return moment.isoformat()


def date_only(days_before_now: float) -> str:
    return (NOW - timedelta(days=days_before_now)).date().isoformat()


def codeable(code: Code, text: str | None = None) -> Resource:
    return b.concept(code, text=text or None)


def displayed_status(system: str, code: str) -> Resource:
    """A status CodeableConcept whose display is the code itself."""
    return codeable(Code(system, code, code))


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

    def patient(self, birth_date: str, gender: str, **extra: Any) -> None:
        resource = b.patient(self.patient_id, birth_date=birth_date)
        # then gender and name: the bundles on disk hold them in this order
        resource.update(gender=gender, name=[b.human_name("Synthetic", "Test")], **extra)
        self.add(resource)

    def condition(
        self,
        code: Code,
        onset_days: float | None,
        status: str = "active",
        verification: str = "confirmed",
        **extra: Any,
    ) -> Resource:
        resource = b.condition(
            None,
            self.patient_id,
            codeable(code),
            clinical_status=displayed_status(b.CONDITION_CLINICAL, status),
            verification_status=displayed_status(b.CONDITION_VERIFICATION, verification),
            **extra,
        )
        if onset_days is not None:
            resource["onsetDateTime"] = date_only(onset_days)
            resource["recordedDate"] = day(onset_days - 1)
        return self.add(resource, "condition")

    def observation(
        self,
        code: Code,
        days: float,
        value: float | None,
        unit: str,
        status: str = "final",
        low: float | None = None,
        high: float | None = None,
        **extra: Any,
    ) -> Resource:
        has_range = low is not None or high is not None
        resource = b.observation(
            None,
            self.patient_id,
            codeable(code),
            effective=day(days),
            status=status,
            value_quantity=None if value is None else b.quantity(value, unit),
            reference_range=b.reference_range(low, high, unit=unit) if has_range else None,
            **extra,
        )
        return self.add(resource, "obs")

    def weight(self, days: float, kg: float, **extra: Any) -> Resource:
        return self.observation(b.WEIGHT, days, kg, "kg", **extra)

    def height(self, days: float, cm: float) -> Resource:
        return self.observation(b.HEIGHT, days, cm, "cm")

    def score(self, kind: str, days: float, value: int) -> Resource:
        return self.observation({"cmas": b.CMAS, "mmt8": b.MMT8}[kind], days, value, "{score}")

    def administration(
        self,
        medication: Resource,
        days: float,
        dose: float,
        unit: str,
        route: Code,
        status: str = "completed",
        **extra: Any,
    ) -> Resource:
        resource = b.medication_administration(
            None,
            self.patient_id,
            medication,
            effective=day(days),
            status=status,
            dosage=b.administration_dosage(route=codeable(route), dose=b.quantity(dose, unit)),
            **extra,
        )
        return self.add(resource, "admin")

    def order(
        self,
        medication: Resource,
        start_days: float,
        dose: float,
        unit: str,
        route: Code,
        frequency: tuple[int, int, str],
        status: str = "active",
        end_days: float | None = None,
        prior: str | None = None,
        **extra: Any,
    ) -> Resource:
        count, period, period_unit = frequency
        end = None if end_days is None else date_only(end_days)
        resource = b.medication_request(
            None,
            self.patient_id,
            medication,
            authored=day(start_days, hour=8),
            status=status,
            dosage=[
                b.dosage(
                    timing=b.timing(
                        count, period, period_unit, bounds=b.period(date_only(start_days), end)
                    ),
                    route=codeable(route),
                    dose=b.quantity(dose, unit),
                )
            ],
            prior_request_id=prior or None,
            **extra,
        )
        return self.add(resource, "order")

    def procedure(self, code: Code, days: float, status: str = "completed") -> Resource:
        resource = b.procedure(
            None, self.patient_id, codeable(code), performed=day(days), status=status
        )
        return self.add(resource, "proc")

    def immunization(self, code: Code, days: float) -> Resource:
        resource = b.immunization(None, self.patient_id, codeable(code), occurred=date_only(days))
        return self.add(resource, "imm")

    def encounter(self, days: float) -> Resource:
        resource = b.encounter(
            None,
            self.patient_id,
            Code(b.V3_ACT_CODE, "AMB"),
            period=b.period(day(days), day(days, hour=10)),
        )
        return self.add(resource, "enc")

    def bundle(self) -> dict[str, Any]:
        return b.transaction(self.resources, lambda r: f"urn:jdm-cds:{b.resource_url(r)}")


METHYLPRED = codeable(b.METHYLPREDNISOLONE)
PREDNISOLONE = codeable(b.PREDNISOLONE)
METHOTREXATE = codeable(b.METHOTREXATE)
IVIG = b.concept(text="Immune globulin intravenous (human) 10% (Privigen)")
PARACETAMOL = codeable(b.ACETAMINOPHEN)
FOLIC_ACID = b.concept(text="Folic acid 5 mg tablet")
OMEPRAZOLE = codeable(b.OMEPRAZOLE)
JDM = b.JDM
WEAKNESS = b.PROXIMAL_WEAKNESS
DYSPHAGIA = b.DYSPHAGIA_OROPHARYNGEAL
ASTHMA = b.ASTHMA
CK = b.CK
ALDOLASE = b.ALDOLASE
CRP = b.CRP
SODIUM = b.SODIUM
HEART_RATE = b.HEART_RATE


def background(chart: Chart, years: int = 3) -> None:
    """Years of ordinary care: clinic vitals, a few unrelated labs, an old condition, vaccines."""
    for visit in range(years * 2):
        days = 400 + visit * 182
        chart.encounter(days)
        chart.observation(HEART_RATE, days, 92 - visit, "/min")
        chart.observation(SODIUM, days, 139, "mmol/L", low=135, high=145)
    chart.condition(ASTHMA, 1500, status="resolved")
    paracetamol = b.medication_request(
        None, chart.patient_id, PARACETAMOL, authored=day(900), status="completed"
    )
    chart.add(paracetamol, "order")
    chart.immunization(b.MMR_VACCINE, 2600)
    chart.immunization(b.INFLUENZA_SEASONAL, 500)


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
    chart.condition(b.ILD.shown_as("Interstitial lung disease"), 95, verification="refuted")
    # diagnosis work-up, 97 days ago
    chart.weight(97, 26.4)
    chart.height(97, 132.0)
    chart.observation(CK, 97, 4200, "U/L", low=40, high=200)
    chart.observation(ALDOLASE, 97, 16.2, "U/L", high=7.5)
    chart.procedure(b.MRI_THIGH, 100)
    chart.procedure(b.ECG, 96)
    chart.procedure(b.ECHOCARDIOGRAM, 96)
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
    chart.observation(b.WEIGHT, 20, 55, "[lb_av]")
    chart.observation(b.HEIGHT, 20, 50, "[in_i]")
    chart.observation(b.WEIGHT, 10, 3.9, "[stone_av]")
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
    chart.add(other.condition(b.POLYMYOSITIS, 50))
    chart.observation(CK, 11, None, "U/L")
    chart.observation(CK, 11, 900, "U/L", id="hostile-ck-malformed", valueString="high")
    chart.observation(Code(b.LOINC, "99999-9", "Unknown local test"), 11, 1, "U/L")
    chart.score("cmas", 11, 60)
    chart.order(METHOTREXATE, 30, 15, "mg/m2", SC, (1, 1, "wk"))
    no_route = b.medication_administration(
        None,
        chart.patient_id,
        METHYLPRED,
        effective=day(40),
        dosage=b.administration_dosage(dose=b.quantity(500, "mg")),
    )
    chart.add(no_route, "admin")
    reported = b.medication_statement(
        None,
        chart.patient_id,
        METHYLPRED,
        effective=day(45),
        dosage=[b.dosage(dose=b.quantity(30, "mg/kg"))],
    )
    chart.add(reported, "statement")
    chart.order(
        codeable(b.PREDNISOLONE.shown_as("prednisolone acetate 1% eye drops")),
        20,
        1,
        "mg",
        b.ROUTE_OPHTHALMIC,
        (4, 1, "d"),
    )
    missing_medication = b.medication_administration(
        None,
        chart.patient_id,
        None,
        medication_reference="Medication/not-in-record",
        effective=day(15),
    )
    chart.add(missing_medication, "admin")
    # no subject; code before clinicalStatus, as the bundle on disk holds them
    no_subject = b.condition(
        None,
        None,
        codeable(WEAKNESS),
        clinicalStatus=displayed_status(b.CONDITION_CLINICAL, "active"),
    )
    chart.add(no_subject, "condition")
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
