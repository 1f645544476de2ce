"""Records as EHRs send them (docs/clinical/codes.md, "Codes as EHRs send them"): each pattern
is read, or named on the data-quality notes; never silently dropped.

Patterns come from public vendor examples and exports (fhir_fixtures/real/README.md names each
origin): Cerner home medications with intent ``plan``, encounter diagnoses without a
clinicalStatus, vital-signs panels, estimated weights coded 8335-2 beside 29463-7, OIDs for code
systems, ICD-10 without the dot, doses in tablets of a named strength.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from history_helpers import (
    PATIENT,
    administration,
    condition,
    medication,
    observation,
    order,
    patient,
    weight,
)

from cds_service.history.model import TherapyHistory
from cds_service.knowledge.codings import canonical, ndc11

Build = Callable[..., TherapyHistory]
LOINC, SNOMED = "http://loinc.org", "http://snomed.info/sct"


def test_code_systems_as_oids_and_icd_codes_without_the_dot_match(build: Build) -> None:
    history = build(
        patient(),
        condition("c1", "urn:oid:2.16.840.1.113883.6.90", "M3302"),  # ICD-10-CM, OID, no dot
        observation("w1", "urn:oid:2.16.840.1.113883.6.1", "29463-7", 26),  # LOINC as an OID
    )
    assert [p.concept for p in history.problems] == ["jdm"]
    assert history.problems[0].code == "http://hl7.org/fhir/sid/icd-10-cm|M33.02"
    assert [m.value for m in history.series("weight")] == [Decimal(26)]


def test_canonical_forms() -> None:
    assert canonical("http://hl7.org/fhir/sid/icd-10", "m330") == (
        "http://hl7.org/fhir/sid/icd-10",
        "M33.0",
    )
    assert canonical("https://loinc.org", "2160-0") == (LOINC, "2160-0")
    assert canonical("http://example.org/local", "M3302") == ("http://example.org/local", "M3302")
    assert ndc11("0069-6002-01") == "00069600201" and ndc11("bad") == "bad"


def test_an_order_with_intent_plan_counts(build: Build) -> None:
    # Cerner records home medications as MedicationRequest.intent = plan
    weekly = order("mtx", medication("6851"), "2026-02-01", 15, "mg", (1, 1, "wk"), intent="plan")
    history = build(patient(), weekly)
    assert history.methotrexate is not None and history.methotrexate.doses_expected >= 6


def test_an_ivig_order_in_force_is_a_course_ordered_not_given(build: Build) -> None:
    # an active IVIG order for tomorrow (Gammaked, IV): the course is ordered, so none is drafted
    gammaked, iv = medication("1809437"), "47625008"
    ordered = order("ivig", gammaked, "2026-03-16", 26, "g", route=iv)
    done = order("old", gammaked, "2025-08-01", 26, "g", route=iv, status="completed")
    done["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"]["end"] = "2025-08-02"
    history = build(patient(), ordered, done)
    assert [o.source.resource_id for o in history.ivig_orders] == ["ivig"]
    assert history.ivig_courses == ()  # an order is not an infusion given


def test_a_proposal_is_not_therapy(build: Build) -> None:
    draft = order("mtx", medication("6851"), "2026-02-01", 15, "mg", (1, 1, "wk"))
    draft["intent"] = "proposal"
    assert build(patient(), draft).methotrexate is None


def test_a_dose_in_tablets_becomes_mg_with_the_strength_in_the_product_name(build: Build) -> None:
    tablets = order(
        "mtx",
        medication("105585", text="Methotrexate 2.5 MG Oral Tablet"),
        "2026-02-01",
        6,
        "{tbl}",
        (1, 1, "wk"),
    )
    (event,) = build(patient(), tablets).methotrexate.events[:1]  # type: ignore[union-attr]
    assert event.amount_mg == Decimal("15") and "6 tbl (x 2.5 mg = 15 mg)" in event.dose_as_written


def test_the_mass_entry_of_several_dose_and_rate_entries_is_read(build: Build) -> None:
    # Epic sends calculated, admin-amount and ordered entries; an mL entry first must not hide mg
    mtx = order("mtx", medication("6851"), "2026-02-01", 15, "mg", (1, 1, "wk"))
    mtx["dosageInstruction"][0]["doseAndRate"].insert(
        0, {"doseQuantity": {"value": 0.6, "unit": "mL", "code": "mL"}}
    )
    (event,) = build(patient(), mtx).methotrexate.events[:1]  # type: ignore[union-attr]
    assert event.amount_mg == Decimal(15)


def test_a_current_steroid_dose_that_cannot_be_read_is_unknown_not_stopped(build: Build) -> None:
    # 52 mg/day, then the current order as 8 mL of a solution whose strength is not given
    first = order("p1o", medication("8638"), "2026-02-01", 52, "mg")
    first["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"]["end"] = "2026-03-12"
    current = order(
        "p2o", medication("8638", text="prednisolone oral solution"), "2026-03-12", 8, "mL"
    )
    course = build(patient(), weight("w", 26), first, current).glucocorticoid
    assert course is not None and course.trend == "unknown" and course.current is None
    assert [p.daily_mg for p in course.points] == [Decimal(52)]  # no 0 mg/day point


def test_a_tablet_dose_without_any_strength_is_noted_not_guessed(build: Build) -> None:
    tablets = order(
        "mtx", medication("6851", text="methotrexate"), "2026-02-01", 6, "{tbl}", (1, 1, "wk")
    )
    (event,) = build(patient(), tablets).methotrexate.events[:1]  # type: ignore[union-attr]
    assert event.amount_mg is None and "no strength" in (event.note or "")


def test_an_encounter_diagnosis_without_clinical_status_counts_with_a_note(build: Build) -> None:
    history = build(patient(), condition("dx", "http://hl7.org/fhir/sid/icd-10-cm", "M33.02", None))
    assert history.problems[0].active
    assert "no clinicalStatus and no abatement" in history.data_quality[0].reason


def test_weight_and_height_inside_a_vital_signs_panel(build: Build) -> None:
    panel = observation("vs", LOINC, "85353-1", None)
    panel["component"] = [
        {
            "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
            "valueQuantity": {"value": 57.3, "unit": "[lb_av]", "code": "[lb_av]"},
        },
        {
            "code": {"coding": [{"system": LOINC, "code": "8308-9"}]},
            "valueQuantity": {"value": 132, "unit": "cm", "code": "cm"},
        },
    ]
    history = build(patient(), panel)
    assert [m.value for m in history.series("height")] == [Decimal(132)]
    (kg,) = history.series("weight")
    assert kg.value == Decimal("57.3") * Decimal("0.45359237") and kg.original == "57.3 lb"


def test_ounces_are_converted() -> None:
    from cds_service.history.units import convert

    assert convert("weight", Decimal(16), "[oz_av]", None) == Decimal("0.45359237")


def test_an_estimated_weight_is_marked_and_used_only_without_a_measured_one(build: Build) -> None:
    from cds_service.dosing import select_dosing_weight
    from cds_service.knowledge.loader import load_knowledge

    policy = load_knowledge(__import__("history_helpers").REPO_ROOT / "cards").dosing
    estimated = observation("est", LOINC, "8335-2", 24)
    estimated["code"]["coding"].append({"system": LOINC, "code": "29463-7"})  # as Cerner sends
    history = build(patient(), estimated)
    (only,) = history.series("weight")
    assert only.estimated
    assert select_dosing_weight(history.series("weight"), history.now, policy).weight == only
    measured = weight("old", 25, at="2025-01-01")  # measured, if stale: the estimate is not used
    history = build(patient(), estimated, measured)
    assessment = select_dosing_weight(history.series("weight"), history.now, policy)
    assert assessment.weight is not None and not assessment.weight.estimated
    assert not assessment.usable


def test_a_number_sent_as_text_is_refused_with_a_note(build: Build) -> None:
    history = build(patient(), weight("w", "26"))
    assert history.series("weight") == ()
    (note,) = history.data_quality
    assert note.reason == "a number sent as text (valueQuantity.value): not used"


def test_implausible_and_huge_values_are_refused_with_a_note(build: Build) -> None:
    huge: Any = int("9" * 4000)
    history = build(patient(), weight("w1", 1e60), weight("w2", huge), weight("w3", 26))
    assert [m.value for m in history.series("weight")] == [Decimal(26)]
    reasons = {n.resource_id: n.reason for n in history.data_quality}
    assert reasons["w1"].startswith("value outside the plausible range")
    assert "w2" in reasons and PATIENT not in reasons["w2"]


def _transaction(*resources: dict[str, Any]) -> dict[str, Any]:
    """A Synthea-style transaction Bundle: urn:uuid fullUrls, every reference by urn:uuid."""
    entries = []
    for resource in resources:
        copied = {**resource}
        if "subject" in copied:
            copied["subject"] = {"reference": f"urn:uuid:{PATIENT}"}
        entries.append({"fullUrl": f"urn:uuid:{copied['id']}", "resource": copied})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def test_urn_uuid_references_resolve_through_the_bundle(build: Build) -> None:
    history = build(_transaction(patient(), weight("w1", 26)))
    assert [w.source.resource_id for w in history.series("weight")] == ["w1"]
    assert history.data_quality == ()


def test_an_urn_uuid_naming_no_entry_is_named_not_used(build: Build) -> None:
    stray = weight("w2", 40)
    stray["subject"] = {"reference": "urn:uuid:6a1b2c3d-0000-0000-0000-000000000000"}
    history = build(patient(), weight("w1", 26), stray)
    assert [w.source.resource_id for w in history.series("weight")] == ["w1"]
    note = history.data_quality[0]
    assert (note.resource_id, note.category) == ("w2", "other-patient")
    assert "Bundle address" in note.reason


def test_a_searchset_entry_may_name_its_patient_on_its_own_server(build: Build) -> None:
    absolute = weight("w3", 27)
    absolute["subject"] = {"reference": "https://ehr.example/fhir/Patient/" + PATIENT}
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"fullUrl": "https://ehr.example/fhir/Observation/w3", "resource": absolute}],
    }
    assert [w.value for w in build(patient(), bundle).series("weight")] == [Decimal(27)]


def test_two_disagreeing_versions_are_named_and_the_newer_used(build: Build) -> None:
    older, newer = weight("w1", 26), weight("w1", 29)
    older["meta"], newer["meta"] = {"versionId": "1"}, {"versionId": "2"}
    history = build(patient(), newer, older)
    assert [w.value for w in history.series("weight")] == [Decimal(29)]
    note = history.data_quality[0]
    assert (note.category, note.concept) == ("conflict", "weight")
    assert "versions 1 and 2" in note.reason


def test_the_same_record_sent_twice_is_no_conflict(build: Build) -> None:
    first, again = weight("w1", 26), weight("w1", 26)
    again["meta"] = {"lastUpdated": "2026-03-01T00:00:00Z"}
    assert build(patient(), first, again).data_quality == ()


ABSENT_DATE = {
    "extension": [
        {
            "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
            "valueCode": "unknown",
        }
    ]
}


def test_an_administration_whose_date_is_recorded_absent_still_counts(build: Build) -> None:
    pulses = [
        administration(f"mp{i}", medication("1743704"), f"2026-02-0{i}", 600, "mg")
        for i in (1, 2, 3)
    ]
    del pulses[2]["effectiveDateTime"]
    pulses[2]["_effectiveDateTime"] = ABSENT_DATE
    pulses[2]["meta"] = {"lastUpdated": "2026-02-04T08:00:00Z"}
    history = build(patient(), weight("w", 26, at="2026-02-01"), *pulses)
    assert len(history.methylprednisolone_pulses) == 3
    undated = history.methylprednisolone_pulses[-1]
    assert undated.date_unrecorded and undated.at.date().isoformat() == "2026-02-04"
    (note,) = history.data_quality
    assert (note.resource_id, note.category, note.concept) == (
        "mp3",
        "no-date",
        "methylprednisolone-iv",
    )
    assert note.reason == "its date is not recorded (reason: unknown)"


def test_an_administration_with_no_date_at_all_is_named_not_counted(build: Build) -> None:
    pulse = administration("mp1", medication("1743704"), "2026-02-01", 600, "mg")
    del pulse["effectiveDateTime"]
    pulse["_effectiveDateTime"] = ABSENT_DATE
    history = build(patient(), pulse)
    assert history.methylprednisolone_pulses == ()
    assert [n.reason for n in history.data_quality] == [
        "its date is not recorded (reason: unknown)",
        "given on a date the record does not hold: not counted",
    ]
