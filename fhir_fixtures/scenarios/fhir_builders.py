"""The scenarios' FHIR vocabulary: a chart's words ("weight", "jdm", "iv") and the resources they
make, built with :mod:`fhir_fixtures.builders`.

Every helper returns plain JSON (a dict) exactly as an EHR would send it. Times are given as an age
relative to the fixtures' frozen clock (``NOW``: 2026-03-15T10:00 in Pacific/Auckland, +13:00), so
a fixture reads like a chart: ``weight("w-now", 26, days_ago=5)``.

Codes are the value sets' (:mod:`fhir_fixtures.builders.codes`). Where a chart names a thing its
own way (CMAS, IVIG, the route qualifiers) only the display differs; where no code is verified
(IVIG's RxNorm ingredient, CMAS, ECG), the resource also carries the name in `text`, as an EHR
would, so a name match can find it.
"""

from __future__ import annotations

from datetime import date, timedelta

from fhir_fixtures import builders as b
from fhir_fixtures.builders import (
    CVX,
    LOINC,
    RXNORM,
    SNOMED,
    UCUM,
    Code,
    Json,
    quantity,
    reference,
)
from fhir_fixtures.builders import ICD10_CM as ICD10
from fhir_fixtures.clocks import SCENARIO_NOW_NZDT

NOW = SCENARIO_NOW_NZDT
SCT = SNOMED
Coding = Code

__all__ = ["CVX", "ICD10", "LOINC", "NOW", "RXNORM", "SCT", "UCUM", "Coding", "Json"]

CONDITION_CODES: dict[str, list[Code]] = {
    "jdm": [b.JDM],
    "dermatomyositis": [b.DERMATOMYOSITIS, b.DERMATOMYOSITIS_SCT],
    "weakness": [b.PROXIMAL_WEAKNESS],
    "dysphagia": [b.DYSPHAGIA, b.DYSPHAGIA_OROPHARYNGEAL],
    "aspiration": [b.ASPIRATION_PNEUMONIA],
    "iga-deficiency": [b.IGA_DEFICIENCY, b.IGA_DEFICIENCY_ICD],
    "ckd-3": [b.CKD_STAGE_3, b.CKD_STAGE_3_ICD],
    "dvt-history": [b.DVT_HISTORY],
    "dvt": [b.DVT],
    "heart-failure": [b.HEART_FAILURE, b.HEART_FAILURE_ICD],
    "migraine": [b.MIGRAINE],
    # not in any value set: a code once listed as dysphonia by mistake (see specs_more.py)
    "irritability": [b.IRRITABILITY],
    "ild": [b.ILD_ICD],
    "polymyositis": [b.POLYMYOSITIS_WITH_MYOPATHY],
    # docs/clinical/codes.md has no verified myocarditis code: ICD-10-CM I51.4 is the candidate
    # the value set uses
    "myocarditis": [b.MYOCARDITIS],
    "gi-vasculopathy": [b.GI_VASCULOPATHY_ICD],
    "pregnancy": [b.PREGNANCY],
    "asthma": [b.ASTHMA],
}

# concept -> (code, UCUM unit)
OBSERVATION_CODES: dict[str, tuple[Code, str]] = {
    "weight": (b.WEIGHT, "kg"),
    "height": (b.HEIGHT, "cm"),
    "ck": (b.CK, "U/L"),
    "esr": (b.ESR, "mm/h"),
    "crp": (b.CRP, "mg/L"),
    "iga": (b.IGA, "mg/dL"),
    "creatinine": (b.CREATININE, "umol/L"),
    "egfr": (b.EGFR, "mL/min/{1.73_m2}"),
    "hemoglobin": (b.HEMOGLOBIN, "g/dL"),
    "cmas": (b.CMAS.shown_as("Childhood Myositis Assessment Scale (CMAS) total score"), "{score}"),
    "mmt8": (b.MMT8.shown_as("Manual Muscle Testing-8 (MMT-8) total score"), "{score}"),
}
ABO_GROUP = b.ABO_GROUP

AGENT_CODES: dict[str, Code] = {
    "methylprednisolone": b.METHYLPREDNISOLONE,
    "methotrexate": b.METHOTREXATE,
    "prednisolone": b.PREDNISOLONE,
    # UNVERIFIED candidate (docs/clinical/codes.md): the text carries the name as well
    "ivig": b.IMMUNE_GLOBULIN.shown_as("immune globulin (IVIG) 10%"),
}
ROUTES: dict[str, Code] = {
    "iv": b.ROUTE_IV.shown_as("Intravenous route (qualifier value)"),
    "sc": b.ROUTE_SC.shown_as("Subcutaneous route (qualifier value)"),
    "oral": b.ROUTE_ORAL,
}
PROCEDURE_CODES: dict[str, Code] = {
    "ecg": b.ECG,
    "echo": b.ECHOCARDIOGRAM,
    "pft": b.PFT,
    "vfss": b.VFSS,
}
VACCINE_CODES: dict[str, Code] = {
    "mmr": b.MMR_VACCINE,
    "influenza-inactivated": b.INFLUENZA_INACTIVATED,
}
PROBLEM_LIST_ITEM = Code(b.CONDITION_CATEGORY, "problem-list-item")


def at(*, days_ago: float = 0, hours_ago: float = 0) -> str:
    """An instant before NOW, as FHIR dateTime with the clock's offset."""
    instant = NOW - timedelta(days=days_ago, hours=hours_ago)
    return instant.isoformat(timespec="seconds")


def concept(codings: list[Code], text: str | None = None) -> Json:
    """A CodeableConcept whose text is `text`, else the first coding's display."""
    return b.concept(*codings, text=text or codings[0].display)


def ref(resource_type: str, resource_id: str) -> Json:
    return reference(resource_type, resource_id)


def patient(pid: str, *, birth: date, sex: str, deceased_days_ago: float | None = None) -> Json:
    return b.patient(
        pid,
        identifier=[b.identifier("urn:oid:2.16.840.1.113883.2.18.2", f"ZZZ{pid[-4:]}")],
        name=[b.human_name("Synthetic", "Test")],
        gender=sex,
        birth_date=birth.isoformat(),
        deceased_at=None if deceased_days_ago is None else at(days_ago=deceased_days_ago),
    )


def condition(
    cid: str,
    pid: str,
    kind: str,
    *,
    onset: str,
    status: str = "active",
    verification: str = "confirmed",
    abated: str | None = None,
) -> Json:
    return b.condition(
        cid,
        pid,
        concept(CONDITION_CODES[kind]),
        clinical_status=status,
        verification_status=verification,
        category=[b.concept(PROBLEM_LIST_ITEM)],
        onset=onset,
        recorded=onset,
        abated=abated,
    )


def observation(
    oid: str,
    pid: str,
    kind: str,
    value: float | int | str,
    *,
    when: str,
    unit: str | None = None,
    status: str = "final",
    low: float | None = None,
    high: float | None = None,
) -> Json:
    """A numeric Observation (vital sign, lab or muscle score) with an optional reference range."""
    coding, default_unit = OBSERVATION_CODES[kind]
    unit = unit or default_unit
    category = "vital-signs" if kind in {"weight", "height"} else "laboratory"
    if kind in {"cmas", "mmt8"}:
        category = "exam"
    has_range = low is not None or high is not None
    return b.observation(
        oid,
        pid,
        concept([coding]),
        effective=when,
        status=status,
        category=category,
        value_quantity=quantity(value, unit),
        reference_range=b.reference_range(low, high, unit=unit) if has_range else None,
    )


def abo_group(oid: str, pid: str, group: str, *, when: str) -> Json:
    """ABO group (LOINC 883-9); the value as text, as most laboratory systems send it."""
    return b.observation(
        oid,
        pid,
        concept([ABO_GROUP]),
        effective=when,
        category="laboratory",
        value_concept=b.concept(text=group),
    )


def pregnancy_test(oid: str, pid: str, *, positive: bool, when: str) -> Json:
    """A urine hCG test (LOINC 2106-3), valued with SNOMED Positive / Negative."""
    return b.observation(
        oid,
        pid,
        concept([b.PREGNANCY_TEST_URINE]),
        effective=when,
        category="laboratory",
        value_concept=b.concept(b.POSITIVE if positive else b.NEGATIVE),
    )


def anti_iga(oid: str, pid: str, *, positive: bool, when: str) -> Json:
    """Anti-IgA (IgG) antibodies (LOINC 13312-4), valued with SNOMED Positive / Negative."""
    return b.observation(
        oid,
        pid,
        concept([b.ANTI_IGA]),
        effective=when,
        category="laboratory",
        value_concept=b.concept(b.POSITIVE if positive else b.NEGATIVE),
    )


def administration(
    aid: str,
    pid: str,
    agent: str,
    dose: float | int | str,
    unit: str,
    *,
    route: str,
    when: str,
    status: str = "completed",
) -> Json:
    """A MedicationAdministration: a dose that was given."""
    return b.medication_administration(
        aid,
        pid,
        concept([AGENT_CODES[agent]]),
        effective=when,
        status=status,
        dosage=b.administration_dosage(route=concept([ROUTES[route]]), dose=quantity(dose, unit)),
    )


def mp_pulse(aid: str, pid: str, mg: int, *, when: str) -> Json:
    """One IV methylprednisolone pulse (an administration)."""
    return administration(aid, pid, "methylprednisolone", mg, "mg", route="iv", when=when)


def mtx_admin(aid: str, pid: str, mg: float | int, *, when: str) -> Json:
    """One weekly subcutaneous methotrexate dose that was given."""
    return administration(aid, pid, "methotrexate", mg, "mg", route="sc", when=when)


def ivig_admin(aid: str, pid: str, grams: float | int, *, when: str) -> Json:
    """One IVIG infusion (one day of a course), in grams."""
    return administration(aid, pid, "ivig", grams, "g", route="iv", when=when)


def order(
    rid: str,
    pid: str,
    agent: str,
    dose: float | int,
    unit: str,
    *,
    route: str,
    start: str,
    end: str | None = None,
    period_unit: str = "d",
    status: str | None = None,
) -> Json:
    """A MedicationRequest with a repeating schedule (daily by default) from `start` to `end`."""
    bounds = b.period(start, end)
    return b.medication_request(
        rid,
        pid,
        concept([AGENT_CODES[agent]]),
        authored=start,
        status=status or ("active" if end is None else "completed"),
        dosage=[
            b.dosage(
                timing=b.timing(1, 1, period_unit, bounds=bounds),
                route=concept([ROUTES[route]]),
                dose=quantity(dose, unit),
            )
        ],
        dispense_request={"validityPeriod": dict(bounds)},
    )


def pred_order(
    rid: str, pid: str, mg_per_day: float | int, *, start: str, end: str | None = None
) -> Json:
    """Oral prednisolone, once daily, from `start` (to `end` when the dose was changed)."""
    return order(rid, pid, "prednisolone", mg_per_day, "mg", route="oral", start=start, end=end)


def mtx_order(rid: str, pid: str, mg: float | int, *, start: str) -> Json:
    """An active weekly subcutaneous methotrexate order."""
    return order(rid, pid, "methotrexate", mg, "mg", route="sc", start=start, period_unit="wk")


def procedure(prid: str, pid: str, kind: str, *, when: str, status: str = "completed") -> Json:
    return b.procedure(prid, pid, concept([PROCEDURE_CODES[kind]]), performed=when, status=status)


def immunization(iid: str, pid: str, kind: str, *, when: str) -> Json:
    return b.immunization(iid, pid, concept([VACCINE_CODES[kind]]), occurred=when)


def ig_allergy(
    alid: str,
    pid: str,
    *,
    criticality: str,
    manifestation: str,
    severity: str,
    recorded: str,
    substance: str = "ivig",
) -> Json:
    """An AllergyIntolerance with one reaction (immune globulin unless `substance` says else)."""
    if substance == "ivig":
        code = concept([AGENT_CODES["ivig"]], text="Immune globulin (human)")
    else:
        code = concept([b.PENICILLIN_G], text="Penicillin")
    return b.allergy_intolerance(
        alid,
        pid,
        code,
        clinical_status="active",
        verification_status="confirmed",
        allergy_type="allergy",
        category=["medication"],
        criticality=criticality,
        recorded=recorded,
        reactions=[b.reaction(manifestation, severity)],
    )


def other_order(rid: str, pid: str, coding: Code, *, start: str, status: str = "active") -> Json:
    """A MedicationRequest for something this service does not reason about (noise)."""
    return b.medication_request(rid, pid, concept([coding]), authored=start, status=status)


def other_observation(
    oid: str, pid: str, coding: Code, value: float, unit: str, *, when: str
) -> Json:
    """A numeric Observation the service does not use (noise)."""
    return b.observation(
        oid, pid, concept([coding]), effective=when, value_quantity=quantity(value, unit)
    )


def pred_statement(
    sid: str, pid: str, mg_per_day: float | int, *, start: str, end: str | None = None
) -> Json:
    """Oral prednisolone once daily as a MedicationStatement (reported use, e.g. from the family
    or another hospital), from `start` to `end`."""
    return b.medication_statement(
        sid,
        pid,
        concept([AGENT_CODES["prednisolone"]]),
        status="active" if end is None else "completed",
        effective_period=b.period(start, end),
        dosage=[
            b.dosage(
                timing=b.timing(1, 1, "d"),
                route=concept([ROUTES["oral"]]),
                dose=quantity(mg_per_day, "mg"),
            )
        ],
    )
