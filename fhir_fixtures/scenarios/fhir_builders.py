"""Small helpers that build FHIR R4 resources for the acceptance scenarios.

Every helper returns plain JSON (a dict) exactly as an EHR would send it. Times are given as an age
relative to the tests' frozen clock (``NOW``: 2026-03-15T10:00 in Pacific/Auckland, +13:00), so
a fixture reads like a chart: ``weight("w-now", 26, days_ago=5)``.

Codes come from /work/shared/clinical/codes.md (VERIFIED rows where one exists). Where no code is
verified (IVIG's RxNorm ingredient, CMAS, ECG), the resource also carries the name in `text`, as
an EHR would, so a name match can find it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fhir_fixtures.clocks import SCENARIO_NOW_NZDT

NOW = SCENARIO_NOW_NZDT

SCT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
# No LOINC code exists for CMAS or MMT-8 (codes.md); the value sets use a local code system.
LOCAL_SCORES = "https://jdm-cds.example.org/fhir/CodeSystem/muscle-strength-scores"

Json = dict[str, Any]
Coding = tuple[str, str, str]  # system, code, display

CONDITION_CODES: dict[str, list[Coding]] = {
    "jdm": [(ICD10, "M33.02", "Juvenile dermatomyositis with myopathy")],
    "dermatomyositis": [
        (ICD10, "M33.12", "Other dermatomyositis with myopathy"),
        (SCT, "396230008", "Dermatomyositis"),
    ],
    "weakness": [(SCT, "249939004", "Proximal muscle weakness (finding)")],
    "dysphagia": [
        (SCT, "40739000", "Dysphagia (disorder)"),
        (ICD10, "R13.12", "Dysphagia, oropharyngeal phase"),
    ],
    "aspiration": [(SCT, "422588002", "Aspiration pneumonia (disorder)")],
    "iga-deficiency": [
        (SCT, "190979003", "Selective immunoglobulin A deficiency (disorder)"),
        (ICD10, "D80.2", "Selective deficiency of immunoglobulin A [IgA]"),
    ],
    "ckd-3": [
        (SCT, "433144002", "Chronic kidney disease stage 3 (disorder)"),
        (ICD10, "N18.30", "Chronic kidney disease, stage 3 unspecified"),
    ],
    "dvt-history": [(ICD10, "Z86.718", "Personal history of other venous thrombosis and embolism")],
    "dvt": [(SCT, "128053003", "Deep venous thrombosis (disorder)")],
    "heart-failure": [
        (SCT, "84114007", "Heart failure (disorder)"),
        (ICD10, "I50.9", "Heart failure, unspecified"),
    ],
    "migraine": [(SCT, "37796009", "Migraine (disorder)")],
    # not in any value set: a code once listed as dysphonia by mistake (see specs_more.py)
    "irritability": [(SCT, "55929007", "Feeling irritable (finding)")],
    "ild": [(ICD10, "J84.9", "Interstitial pulmonary disease, unspecified")],
    "polymyositis": [(ICD10, "M33.22", "Polymyositis with myopathy")],
    # codes.md has no verified myocarditis code: ICD-10-CM I51.4 is the candidate the value set uses
    "myocarditis": [(ICD10, "I51.4", "Myocarditis, unspecified")],
    "asthma": [(ICD10, "J45.909", "Unspecified asthma, uncomplicated")],
}

# concept -> (LOINC or local coding, UCUM unit)
OBSERVATION_CODES: dict[str, tuple[Coding, str]] = {
    "weight": ((LOINC, "29463-7", "Body weight"), "kg"),
    "height": ((LOINC, "8302-2", "Body height"), "cm"),
    "ck": (
        (LOINC, "2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma"),
        "U/L",
    ),
    "esr": ((LOINC, "4537-7", "Erythrocyte sedimentation rate by Westergren method"), "mm/h"),
    "crp": ((LOINC, "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma"), "mg/L"),
    "iga": ((LOINC, "2458-8", "IgA [Mass/volume] in Serum or Plasma"), "mg/dL"),
    "creatinine": ((LOINC, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma"), "umol/L"),
    "egfr": (
        (
            LOINC,
            "50384-7",
            "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma "
            "or Blood by Creatinine-based formula (Schwartz)",
        ),
        "mL/min/{1.73_m2}",
    ),
    "hemoglobin": ((LOINC, "718-7", "Hemoglobin [Mass/volume] in Blood"), "g/dL"),
    "cmas": (
        (LOCAL_SCORES, "cmas", "Childhood Myositis Assessment Scale (CMAS) total score"),
        "{score}",
    ),
    "mmt8": ((LOCAL_SCORES, "mmt8", "Manual Muscle Testing-8 (MMT-8) total score"), "{score}"),
}
ABO_GROUP: Coding = (LOINC, "883-9", "ABO group [Type] in Blood")

AGENT_CODES: dict[str, Coding] = {
    "methylprednisolone": (RXNORM, "6902", "methylprednisolone"),
    "methotrexate": (RXNORM, "6851", "methotrexate"),
    "prednisolone": (RXNORM, "8638", "prednisolone"),
    # UNVERIFIED candidate (codes.md): the text carries the name as well
    "ivig": (RXNORM, "5665", "immune globulin (IVIG) 10%"),
}
ROUTES: dict[str, Coding] = {
    "iv": (SCT, "47625008", "Intravenous route (qualifier value)"),
    "sc": (SCT, "34206005", "Subcutaneous route (qualifier value)"),
    "oral": (SCT, "26643006", "Oral route"),
}
PROCEDURE_CODES: dict[str, Coding] = {
    "ecg": (SCT, "29303009", "Electrocardiographic procedure"),
    "echo": (SCT, "40701008", "Echocardiography"),
    "pft": (SCT, "23426006", "Measurement of respiratory function (procedure)"),
    "vfss": (
        LOINC,
        "86395-1",
        "RF videography Hypopharynx and Esophagus Views for swallowing function W speech and W "
        "barium contrast PO",
    ),
}
VACCINE_CODES: dict[str, Coding] = {
    "mmr": (CVX, "03", "measles, mumps and rubella virus vaccine"),
    "influenza-inactivated": (CVX, "150", "influenza, injectable, quadrivalent, preservative free"),
}


def at(*, days_ago: float = 0, hours_ago: float = 0) -> str:
    """An instant before NOW, as FHIR dateTime with the clock's offset."""
    instant = NOW - timedelta(days=days_ago, hours=hours_ago)
    return instant.isoformat(timespec="seconds")


def concept(codings: list[Coding], text: str | None = None) -> Json:
    result: Json = {
        "coding": [{"system": s, "code": c, "display": d} for s, c, d in codings],
    }
    result["text"] = text or codings[0][2]
    return result


def quantity(value: float | int | str, unit: str) -> Json:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def ref(resource_type: str, resource_id: str) -> Json:
    return {"reference": f"{resource_type}/{resource_id}"}


def patient(pid: str, *, birth: date, sex: str, deceased_days_ago: float | None = None) -> Json:
    resource: Json = {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.18.2", "value": f"ZZZ{pid[-4:]}"}],
        "name": [{"family": "Synthetic", "given": ["Test"]}],
        "gender": sex,
        "birthDate": birth.isoformat(),
    }
    if deceased_days_ago is not None:
        resource["deceasedDateTime"] = at(days_ago=deceased_days_ago)
    return resource


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
    resource: Json = {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": status,
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": verification,
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "problem-list-item",
                    }
                ]
            }
        ],
        "code": concept(CONDITION_CODES[kind]),
        "subject": ref("Patient", pid),
        "onsetDateTime": onset,
        "recordedDate": onset,
    }
    if abated is not None:
        resource["abatementDateTime"] = abated
    return resource


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
    resource: Json = {
        "resourceType": "Observation",
        "id": oid,
        "status": status,
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": category,
                    }
                ]
            }
        ],
        "code": concept([coding]),
        "subject": ref("Patient", pid),
        "effectiveDateTime": when,
        "valueQuantity": quantity(value, unit),
    }
    if low is not None or high is not None:
        reference: Json = {}
        if low is not None:
            reference["low"] = quantity(low, unit)
        if high is not None:
            reference["high"] = quantity(high, unit)
        resource["referenceRange"] = [reference]
    return resource


def abo_group(oid: str, pid: str, group: str, *, when: str) -> Json:
    """ABO group (LOINC 883-9); the value as text, as most laboratory systems send it."""
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": concept([ABO_GROUP]),
        "subject": ref("Patient", pid),
        "effectiveDateTime": when,
        "valueCodeableConcept": {"text": group},
    }


def _dose(value: float | int | str, unit: str) -> Json:
    return quantity(value, unit)


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
    return {
        "resourceType": "MedicationAdministration",
        "id": aid,
        "status": status,
        "medicationCodeableConcept": concept([AGENT_CODES[agent]]),
        "subject": ref("Patient", pid),
        "effectiveDateTime": when,
        "dosage": {"route": concept([ROUTES[route]]), "dose": _dose(dose, unit)},
    }


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
    bounds: Json = {"start": start}
    if end is not None:
        bounds["end"] = end
    resource: Json = {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status or ("active" if end is None else "completed"),
        "intent": "order",
        "medicationCodeableConcept": concept([AGENT_CODES[agent]]),
        "subject": ref("Patient", pid),
        "authoredOn": start,
        "dosageInstruction": [
            {
                "timing": {
                    "repeat": {
                        "boundsPeriod": bounds,
                        "frequency": 1,
                        "period": 1,
                        "periodUnit": period_unit,
                    }
                },
                "route": concept([ROUTES[route]]),
                "doseAndRate": [{"doseQuantity": _dose(dose, unit)}],
            }
        ],
        "dispenseRequest": {"validityPeriod": dict(bounds)},
    }
    return resource


def pred_order(
    rid: str, pid: str, mg_per_day: float | int, *, start: str, end: str | None = None
) -> Json:
    """Oral prednisolone, once daily, from `start` (to `end` when the dose was changed)."""
    return order(rid, pid, "prednisolone", mg_per_day, "mg", route="oral", start=start, end=end)


def mtx_order(rid: str, pid: str, mg: float | int, *, start: str) -> Json:
    """An active weekly subcutaneous methotrexate order."""
    return order(rid, pid, "methotrexate", mg, "mg", route="sc", start=start, period_unit="wk")


def procedure(prid: str, pid: str, kind: str, *, when: str, status: str = "completed") -> Json:
    return {
        "resourceType": "Procedure",
        "id": prid,
        "status": status,
        "code": concept([PROCEDURE_CODES[kind]]),
        "subject": ref("Patient", pid),
        "performedDateTime": when,
    }


def immunization(iid: str, pid: str, kind: str, *, when: str) -> Json:
    return {
        "resourceType": "Immunization",
        "id": iid,
        "status": "completed",
        "vaccineCode": concept([VACCINE_CODES[kind]]),
        "patient": ref("Patient", pid),
        "occurrenceDateTime": when,
    }


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
        code = concept([(RXNORM, "7980", "penicillin G")], text="Penicillin")
    return {
        "resourceType": "AllergyIntolerance",
        "id": alid,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "code": "active",
                }
            ]
        },
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "code": "confirmed",
                }
            ]
        },
        "type": "allergy",
        "category": ["medication"],
        "criticality": criticality,
        "code": code,
        "patient": ref("Patient", pid),
        "recordedDate": recorded,
        "reaction": [
            {
                "manifestation": [{"text": manifestation}],
                "severity": severity,
            }
        ],
    }


def other_order(rid: str, pid: str, coding: Coding, *, start: str, status: str = "active") -> Json:
    """A MedicationRequest for something this service does not reason about (noise)."""
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": concept([coding]),
        "subject": ref("Patient", pid),
        "authoredOn": start,
    }


def other_observation(
    oid: str, pid: str, coding: Coding, value: float, unit: str, *, when: str
) -> Json:
    """A numeric Observation the service does not use (noise)."""
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": concept([coding]),
        "subject": ref("Patient", pid),
        "effectiveDateTime": when,
        "valueQuantity": quantity(value, unit),
    }


def pred_statement(
    sid: str, pid: str, mg_per_day: float | int, *, start: str, end: str | None = None
) -> Json:
    """Oral prednisolone once daily as a MedicationStatement (reported use, e.g. from the family
    or another hospital), from `start` to `end`."""
    period: Json = {"start": start}
    if end is not None:
        period["end"] = end
    return {
        "resourceType": "MedicationStatement",
        "id": sid,
        "status": "active" if end is None else "completed",
        "medicationCodeableConcept": concept([AGENT_CODES["prednisolone"]]),
        "subject": ref("Patient", pid),
        "effectivePeriod": period,
        "dosage": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "route": concept([ROUTES["oral"]]),
                "doseAndRate": [{"doseQuantity": quantity(mg_per_day, "mg")}],
            }
        ],
    }
