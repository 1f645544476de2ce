"""One mapping at a time, with small resources, on the frozen Pacific/Auckland clock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from history_helpers import (
    NOW,
    PATIENT,
    administration,
    condition,
    height,
    medication,
    observation,
    order,
    patient,
    weight,
)

from cds_service.history.model import DoseStatus, MatchKind
from fhir_fixtures import builders as fb
from fhir_fixtures.builders import ICD10_CM as ICD
from fhir_fixtures.builders import LOINC
from fhir_fixtures.builders import MUSCLE_SCORES as SCORES
from fhir_fixtures.clocks import AUCKLAND as AKL

# --- patient ---------------------------------------------------------------------------------


def test_age_in_completed_years_and_months(build) -> None:  # type: ignore[no-untyped-def]
    facts = build(patient(birthDate="2016-03-16", gender="female")).patient
    assert (facts.age_years, facts.age_months, facts.sex) == (9, 11, "female")


def test_deceased_by_boolean_or_date(build) -> None:  # type: ignore[no-untyped-def]
    assert build(patient(deceasedBoolean=True)).patient.deceased
    assert build(patient(deceasedDateTime="2026-03-01")).patient.deceased
    assert not build(patient(deceasedBoolean=False)).patient.deceased


def test_missing_patient_resource_gives_unknown_facts(build) -> None:  # type: ignore[no-untyped-def]
    facts = build(weight("w", 26)).patient
    assert facts.patient_id == PATIENT and facts.birth_date is None and not facts.deceased


# --- problems ----------------------------------------------------------------------------------


def test_condition_dates_become_midnight_in_the_clock_zone(build) -> None:  # type: ignore[no-untyped-def]
    jdm = condition("c", ICD, "M33.02", onsetDateTime="2025-06-01", recordedDate="2025-06-03")
    problem = build(jdm).problems[0]
    assert problem.onset == datetime(2025, 6, 1, tzinfo=AKL)  # NZST, +12:00 in June
    assert problem.onset.utcoffset().total_seconds() == 12 * 3600  # type: ignore[union-attr]
    assert problem.recorded == datetime(2025, 6, 3, tzinfo=AKL)
    assert (problem.concept, problem.active, problem.matched_by) == ("jdm", True, MatchKind.CODE)
    assert problem.code == f"{ICD}|M33.02"


def test_recurrence_and_relapse_are_active(build) -> None:  # type: ignore[no-untyped-def]
    history = build(
        condition("a", ICD, "R13.12", clinical="recurrence"),
        condition("b", ICD, "R13.10", clinical="relapse"),
        condition("c", ICD, "R13.11", clinical="inactive"),
    )
    assert [(p.source.resource_id, p.active) for p in history.problems] == [
        ("a", True),
        ("b", True),
        ("c", False),
    ]


def test_uncoded_condition_matched_by_name(build) -> None:  # type: ignore[no-untyped-def]
    uncoded = condition("u", ICD, "zzz")
    uncoded["code"] = {"text": "Skin ulceration over both elbows"}
    problem = build(uncoded).problems[0]
    assert (problem.concept, problem.matched_by, problem.code) == (
        "skin-ulceration",
        MatchKind.NAME,
        None,
    )


def test_juvenile_dermatomyositis_by_name_is_not_also_adult_dm(build) -> None:  # type: ignore[no-untyped-def]
    uncoded = condition("u", ICD, "zzz")
    uncoded["code"] = {"text": "Juvenile dermatomyositis"}
    assert [p.concept for p in build(uncoded).problems] == ["jdm"]


# --- measurements ------------------------------------------------------------------------------


def test_creatinine_mg_dl_is_converted_by_88_4(build) -> None:  # type: ignore[no-untyped-def]
    creatinine = observation(
        "cr",
        LOINC,
        "2160-0",
        0.5,
        "mg/dL",
        referenceRange=[
            {
                "low": {
                    "value": 0.3,
                    "unit": "mg/dL",
                    "system": "http://unitsofmeasure.org",
                    "code": "mg/dL",
                }
            }
        ],
    )
    measurement = build(creatinine).latest("creatinine")
    assert measurement is not None
    assert (measurement.value, measurement.unit) == (Decimal("44.20"), "umol/L")
    assert measurement.reference_low == Decimal("26.52") and measurement.reference_high is None


def test_haemoglobin_in_mmol_is_not_guessed(build) -> None:  # type: ignore[no-untyped-def]
    history = build(observation("hb", LOINC, "718-7", 7.5, "mmol/L"))
    assert history.series("hemoglobin") == ()
    assert history.data_quality[0].category == "unit"


def test_preliminary_counts_flagged_and_cancelled_does_not(build) -> None:  # type: ignore[no-untyped-def]
    history = build(
        weight("p", 26, status="preliminary"), weight("c", 30, status="cancelled", at="2026-03-11")
    )
    assert [(w.source.resource_id, w.preliminary) for w in history.series("weight")] == [
        ("p", True)
    ]


def test_cmas_by_local_code_and_mmt8_by_name(build) -> None:  # type: ignore[no-untyped-def]
    cmas = observation("c", SCORES, "cmas", 31, None)
    mmt8 = observation("m", "http://example.org/local", "X1", 64, None)
    mmt8["code"]["text"] = "MMT-8 total"
    history = build(cmas, mmt8)
    assert history.latest("cmas").value == 31  # type: ignore[union-attr]
    assert history.latest("cmas").matched_by == MatchKind.CODE  # type: ignore[union-attr]
    assert history.latest("mmt8").value == 64  # type: ignore[union-attr]
    assert history.latest("mmt8").matched_by == MatchKind.NAME  # type: ignore[union-attr]


def test_blood_group_from_text(build) -> None:  # type: ignore[no-untyped-def]
    group = observation(
        "g", LOINC, "882-1", None, None, valueCodeableConcept={"text": "O Rh(D) positive"}
    )
    result = build(group).coded_results[0]
    assert (result.concept, result.value) == ("blood-group", "O")


def test_bsa_pairs_the_newest_weight_with_the_nearest_height(build) -> None:  # type: ignore[no-untyped-def]
    history = build(
        weight("w", 26, at="2026-03-10"),
        height("old", 120, at="2025-01-01"),
        height("h", 132, at="2026-02-01"),
    )
    assert history.bsa is not None
    assert (history.bsa.value_m2, history.bsa.height.source.resource_id) == (Decimal("0.98"), "h")


def test_no_bsa_without_a_height_within_90_days(build) -> None:  # type: ignore[no-untyped-def]
    assert build(weight("w", 26, at="2026-03-10"), height("h", 132, at="2025-11-01")).bsa is None


# --- medications -------------------------------------------------------------------------------


def test_product_code_maps_to_its_ingredient_agent_and_injection_is_iv(build) -> None:  # type: ignore[no-untyped-def]
    solu = administration(
        "s", medication("1743720"), "2026-03-01T09:00:00+13:00", 500, "mg", route=None
    )
    event = build(solu).dose_events[0]
    assert (event.agent, event.route, event.amount_mg, event.status) == (
        "methylprednisolone-iv",
        None,
        Decimal(500),
        DoseStatus.GIVEN,
    )


def test_pulse_by_mg_per_kg_below_250_mg(build) -> None:  # type: ignore[no-untyped-def]
    dose = administration("mp", medication("6902"), "2026-03-01", 12, "mg/kg")
    history = build(weight("w", 20, at="2026-02-25"), dose)
    assert history.methylprednisolone_pulses[0].amount_mg == Decimal(240)


def test_small_iv_methylprednisolone_is_not_a_pulse(build) -> None:  # type: ignore[no-untyped-def]
    dose = administration("mp", medication("6902"), "2026-03-01", 2, "mg/kg")
    history = build(weight("w", 20, at="2026-02-25"), dose)
    assert history.doses("methylprednisolone-iv") and history.methylprednisolone_pulses == ()


def test_oral_methylprednisolone_is_prednisolone_equivalent(build) -> None:  # type: ignore[no-untyped-def]
    tablets = order("o", medication("6902"), "2026-03-01", 16, "mg", route="26643006")
    course = build(tablets).glucocorticoid
    assert course is not None and course.points[0].daily_mg == Decimal("20.00")


def test_ivig_by_name_with_exclusions(build) -> None:  # type: ignore[no-untyped-def]
    ivig = administration("i", medication(text="Octagam 10% infusion"), "2026-03-01", 30, "g")
    hep_b = administration(
        "h", medication(text="Hepatitis B immune globulin"), "2026-03-01", 1, "mL"
    )
    history = build(ivig, hep_b)
    # hepatitis B immune globulin is named (immune-globulin-other), never an IVIG dose
    assert sorted((e.agent, e.matched_by) for e in history.dose_events) == [
        ("immune-globulin-other", MatchKind.NAME),
        ("ivig", MatchKind.NAME),
    ]
    assert [course.infusions[0].source.resource_id for course in history.ivig_courses] == ["i"]
    assert history.unmatched_counts == {}
    assert "unread-medication" not in {n.category for n in history.data_quality}  # recognised


def test_contained_medication_reference_resolves(build) -> None:  # type: ignore[no-untyped-def]
    given = administration("r", {}, "2026-03-01", 15, "mg", route="34206005")
    given["contained"] = [
        {
            "resourceType": "Medication",
            "id": "m",
            "code": {
                "coding": [
                    {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1946772"}
                ]
            },
        }
    ]
    given["medicationReference"] = {"reference": "#m"}
    assert [e.agent for e in build(given).dose_events] == ["methotrexate"]


def test_prefetched_medication_reference_resolves(build) -> None:  # type: ignore[no-untyped-def]
    given = administration(
        "r", {"medicationReference": {"reference": "Medication/rtx"}}, "2026-03-01", 750, "mg/m2"
    )
    rituximab = {"resourceType": "Medication", "id": "rtx", "code": {"text": "Rituximab 10 mg/mL"}}
    history = build(
        weight("w", 30, at="2026-02-28"), height("h", 135, at="2026-02-28"), rituximab, given
    )
    event = history.doses("rituximab")[0]
    assert event.basis_bsa_m2 == Decimal("1.06") and event.amount_mg == Decimal("795.00")


def test_weekly_methotrexate_order_gives_expected_doses_until_now(build) -> None:  # type: ignore[no-untyped-def]
    weekly = order(
        "mtx", medication("6851"), "2026-02-01", 15, "mg", (1, 1, "wk"), route="34206005"
    )
    given = administration(
        "g", medication("6851"), "2026-02-08T10:00:00+13:00", 15, "mg", route="34206005"
    )
    mtx = build(weekly, given).methotrexate
    assert mtx is not None
    # Feb 1, 8 (covered by the administration), 15, 22, Mar 1, 8, 15 (00:00 <= now 10:00)
    assert (mtx.doses_given, mtx.doses_expected) == (1, 6)
    assert mtx.first_dose_at == datetime(2026, 2, 1, tzinfo=AKL) and mtx.active


def test_stopped_order_ends_at_last_updated(build) -> None:  # type: ignore[no-untyped-def]
    weekly = order(
        "mtx",
        medication("6851"),
        "2026-02-01",
        15,
        "mg",
        (1, 1, "wk"),
        status="stopped",
        meta={"lastUpdated": "2026-02-16T12:00:00+13:00"},
    )
    mtx = build(weekly).methotrexate
    assert mtx is not None and mtx.doses_expected == 3 and not mtx.active  # Feb 1, 8, 15


def test_superseded_order_does_not_double_count(build) -> None:  # type: ignore[no-untyped-def]
    first = order("a", medication("6851"), "2026-02-01", 10, "mg", (1, 1, "wk"), status="stopped")
    second = order(
        "b",
        medication("6851"),
        "2026-02-15",
        15,
        "mg",
        (1, 1, "wk"),
        priorPrescription={"reference": "MedicationRequest/a"},
    )
    mtx = build(first, second).methotrexate
    assert mtx is not None
    amounts = [e.amount_mg for e in mtx.events]
    assert amounts == [10, 10, 15, 15, 15, 15, 15]  # Feb 1, 8 | Feb 15 ... Mar 15


def updated(day: str) -> dict[str, str]:
    return {"lastUpdated": f"{day}T09:00:00+13:00"}


def test_glucocorticoid_raised_after_taper(build) -> None:  # type: ignore[no-untyped-def]
    pred = medication("8638")
    history = build(
        weight("w", 25, at="2026-01-01"),
        order("a", pred, "2026-01-01", 50, "mg", status="stopped", meta=updated("2026-02-01")),
        order("b", pred, "2026-02-01", 20, "mg", status="stopped", meta=updated("2026-03-01")),
        order("c", pred, "2026-03-01", 40, "mg"),
    )
    course = history.glucocorticoid
    assert course is not None
    assert [p.daily_mg for p in course.points] == [50, 20, 40]
    assert (course.trend, course.raised_after_taper) == ("rising", True)
    assert course.start_mg_per_kg_day == Decimal("2.00")


def test_daily_amount_from_twice_daily_order(build) -> None:  # type: ignore[no-untyped-def]
    bid = order("p", medication("8640"), "2026-03-01", 10, "mg", (2, 1, "d"))
    event = build(bid).dose_events[0]
    assert (event.amount_mg, event.daily_amount_mg, event.status) == (10, 20, DoseStatus.ORDERED)


def test_ivig_courses_split_at_seven_days(build) -> None:  # type: ignore[no-untyped-def]
    ivig = medication(text="Privigen")
    history = build(
        weight("w", 25, at="2026-01-01"),
        administration("a", ivig, "2026-01-02T09:00:00+13:00", 1, "g/kg"),
        administration("b", ivig, "2026-01-09T09:00:00+13:00", 1, "g/kg"),  # day 7: same course
        administration("c", ivig, "2026-01-09T09:00:01+13:00", 1, "g/kg"),  # just past 7 days
    )
    courses = history.ivig_courses
    assert [len(c.infusions) for c in courses] == [2, 1]
    assert courses[0].total_g == Decimal(50) and courses[0].g_per_kg == Decimal("2.00")


def test_statement_is_reported_not_given(build) -> None:  # type: ignore[no-untyped-def]
    statement = fb.medication_statement(
        "s",
        PATIENT,
        medication(text="IVIG at the referring hospital")["medicationCodeableConcept"],
        status="completed",
        effective_period=fb.period("2025-12-01"),
    )
    history = build(statement)
    assert history.dose_events[0].status == DoseStatus.REPORTED
    assert len(history.ivig_courses) == 1 and history.ivig_courses[0].total_g is None


# --- procedures, immunizations, allergies -------------------------------------------------------


def test_procedures_immunizations_and_severe_allergy(build) -> None:  # type: ignore[no-untyped-def]
    subject = {"reference": f"Patient/{PATIENT}"}
    echo = {
        "resourceType": "Procedure",
        "id": "e",
        "status": "completed",
        "subject": subject,
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "40701008"}]},
        "performedDateTime": "2026-01-10",
    }
    planned = dict(echo, id="p", status="preparation")
    mmr = {
        "resourceType": "Immunization",
        "id": "v",
        "status": "completed",
        "patient": subject,
        "vaccineCode": {
            "coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03", "display": "MMR"}]
        },
        "occurrenceDateTime": "2026-01-05",
    }
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "a",
        "patient": subject,
        "code": {"text": "Immune globulin (human)"},
        "reaction": [{"manifestation": [{"text": "Anaphylaxis"}]}],
    }
    history = build(echo, planned, mmr, allergy)
    assert [(p.concept, p.source.resource_id) for p in history.procedures] == [
        ("echocardiogram", "e")
    ]
    assert [(i.concept, i.vaccine) for i in history.immunizations] == [("live-vaccine", "MMR")]
    assert history.allergies[0].severe and "anaphylaxis" in history.allergies[0].description


def test_clock_is_the_argument(build) -> None:  # type: ignore[no-untyped-def]
    later = datetime(2027, 3, 15, 10, tzinfo=AKL)
    assert build(patient(), now=later).patient.age_years == 10
    assert build(patient()).now == NOW


# --- what is loaded ------------------------------------------------------------------------------


def test_old_labs_beyond_the_newest_three_are_not_loaded(build) -> None:  # type: ignore[no-untyped-def]
    def ck(rid: str, at: str) -> dict:  # type: ignore[type-arg]
        return observation(rid, LOINC, "2157-6", 500, "U/L", at=at)

    history = build(
        ck("a", "2025-06-01"), ck("b", "2025-07-01"), ck("c", "2025-08-01"), ck("d", "2026-03-01")
    )
    # d is within the 60-day look-back; b, c and d are the newest three (a trend on the card);
    # a is not loaded
    assert [m.source.resource_id for m in history.series("ck")] == ["b", "c", "d"]


def test_an_old_weight_is_loaded_when_an_old_dose_needs_it(build) -> None:  # type: ignore[no-untyped-def]
    old_dose = administration("mp", medication("6902"), "2025-01-11T09:00:00+13:00", 30, "mg/kg")
    history = build(
        weight("w-old", 20, at="2025-01-10"),
        weight("w-unused", 21, at="2025-04-01"),
        weight("w-2", 24, at="2025-12-01"),
        weight("w-1", 25, at="2026-01-01"),
        weight("w-now", 26, at="2026-03-10"),
        old_dose,
    )
    assert history.doses("methylprednisolone-iv")[0].amount_mg == Decimal(600)
    loaded = [w.source.resource_id for w in history.series("weight")]
    # w-unused never validated; w-2, w-1 and w-now are the newest three
    assert loaded == ["w-old", "w-2", "w-1", "w-now"]


def test_a_broken_old_weight_is_skipped_for_the_next_nearest(build) -> None:  # type: ignore[no-untyped-def]
    broken = weight("w-broken", 20, at="2025-01-10")
    broken["valueQuantity"]["value"] = "twenty"
    dose = administration("mp", medication("6902"), "2025-01-11T09:00:00+13:00", 30, "mg/kg")
    history = build(broken, weight("w-near", 21, at="2025-01-05"), weight("w-now", 26), dose)
    assert history.doses("methylprednisolone-iv")[0].basis.source.resource_id == "w-near"  # type: ignore[union-attr]
    assert [n.resource_id for n in history.data_quality] == ["w-broken"]


def test_condition_without_clinical_status_is_active_unless_abated_with_a_note(build) -> None:  # type: ignore[no-untyped-def]
    # an encounter diagnosis may carry no clinicalStatus (FHIR R4): without an abatement it is
    # the diagnosis in force; either way a note says how it was read
    history = build(condition("c", ICD, "M33.02", clinical=None))
    assert history.problems[0].active
    assert [(n.resource_id, n.concept) for n in history.data_quality] == [("c", "jdm")]
    assert "counted as active" in history.data_quality[0].reason
    abated = condition("c", ICD, "M33.02", clinical=None)
    abated["abatementDateTime"] = "2025-06-01"
    history = build(abated)
    assert not history.problems[0].active
    assert "counted as resolved" in history.data_quality[0].reason


def test_glucocorticoid_order_without_schedule_is_noted_not_guessed(build) -> None:  # type: ignore[no-untyped-def]
    unscheduled = order("p", medication("8638"), "2026-03-01", 40, "mg")
    del unscheduled["dosageInstruction"][0]["timing"]
    history = build(unscheduled)
    assert history.glucocorticoid is None
    assert "daily dose unknown" in history.data_quality[0].reason


def test_cancelled_orders_and_doses_not_given_are_not_counted(build) -> None:  # type: ignore[no-untyped-def]
    mtx = medication("6851")
    history = build(
        order("cancelled", mtx, "2026-03-01", 15, "mg", (1, 1, "wk"), status="cancelled"),
        order("proposal", mtx, "2026-03-01", 15, "mg", (1, 1, "wk"), intent="proposal"),
        administration("not-done", mtx, "2026-03-08", 15, "mg", status="not-done"),
    )
    assert history.dose_events == () and history.methotrexate is None
    assert history.data_quality == () and history.unmatched_counts == {}


def test_a_bound_is_not_a_value(build) -> None:  # type: ignore[no-untyped-def]
    crp = observation("crp", LOINC, "1988-5", 5, "mg/L")
    crp["valueQuantity"]["comparator"] = "<"
    history = build(crp)
    assert history.series("crp") == () and history.data_quality[0].category == "no-value"


def test_coded_schedules(build) -> None:  # type: ignore[no-untyped-def]
    gts = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
    bid = order("bid", medication("8638"), "2026-03-01", 10, "mg")
    bid["dosageInstruction"][0]["timing"] = {"code": {"coding": [{"system": gts, "code": "BID"}]}}
    weekly = order("wk", medication("6851"), "2026-03-01", 15, "mg", route="34206005")
    weekly["dosageInstruction"][0]["timing"] = {
        "code": {"coding": [{"system": gts, "code": "WK"}]},
        "repeat": {"boundsPeriod": {"start": "2026-03-01"}},
    }
    history = build(bid, weekly)
    assert history.glucocorticoid is not None and history.glucocorticoid.points[0].daily_mg == 20
    assert history.methotrexate is not None and history.methotrexate.doses_expected == 3


def test_onset_given_as_an_age(build) -> None:  # type: ignore[no-untyped-def]
    dm = condition("dm", ICD, "M33.12")
    dm["onsetAge"] = {
        "value": 17.9,
        "unit": "years",
        "system": "http://unitsofmeasure.org",
        "code": "a",
    }
    history = build(patient(birthDate="2000-01-31"), dm)
    # 17.9 years = 214 whole months after 2000-01-31: 2017-11-30 (day clamped), before 18
    assert history.problems[0].onset == datetime(2017, 11, 30, tzinfo=AKL)
