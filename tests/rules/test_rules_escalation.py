"""Scope, refractory/escalate, first-line window, ivig-start, weight-needed (decision model 0-3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from rules_builders import (
    NOW,
    TZ,
    ago,
    findings_for,
    glucocorticoid,
    indicator_of,
    ivig_course,
    jdm_since,
    measure,
    methotrexate,
    problem,
    run,
    seed_history,
    with_measurements,
    without,
    words,
)

from cds_service.card_builder.reasons import why_lines
from cds_service.history.model import DataQualityNote, MatchKind, SourceRef, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules import first_line_window, ivig_start
from cds_service.rules.scope import assess_scope


def topics(history: TherapyHistory, knowledge: Knowledge) -> list[str]:
    return [f.topic for f in findings_for(history, knowledge)]


def weak_only(**changes: object) -> TherapyHistory:
    """The seed without dysphagia: weakness alone, no red flag."""
    history = seed_history()
    problems = tuple(p for p in history.problems if p.concept != "dysphagia")
    return replace(history, problems=problems, **changes)


def test_seed_case_gives_critical_ivig_start_with_52_g_and_dysphagia(knowledge: Knowledge) -> None:
    findings = {f.topic: f for f in findings_for(seed_history(), knowledge)}
    assert set(findings) == {"ivig-start", "dysphagia-aspiration"}
    start = findings["ivig-start"]
    assert indicator_of(start, knowledge) == "critical"
    dose = start.dose.evidence()
    assert dose is not None
    assert Decimal(dose["courseTotalG"]) == 52
    assert Decimal(dose["perDayG"]) == 26 and dose["days"] == 2
    assert dose["weightObservation"] == "Observation/w-3"
    assert "ivig-draft" in start.suggest
    assert indicator_of(findings["dysphagia-aspiration"], knowledge) == "critical"


def test_deceased_patient_gets_no_findings(knowledge: Knowledge) -> None:
    history = seed_history()
    history = replace(history, patient=replace(history.patient, deceased=True))
    assert topics(history, knowledge) == []


def test_no_jdm_diagnosis_is_out_of_scope(knowledge: Knowledge) -> None:
    history = seed_history()
    history = replace(history, problems=tuple(p for p in history.problems if p.concept != "jdm"))
    assert not assess_scope(history, NOW).in_scope
    assert topics(history, knowledge) == []


def test_resolved_jdm_is_out_of_scope(knowledge: Knowledge) -> None:
    history = seed_history()
    problems = tuple(
        replace(p, active=False) if p.concept == "jdm" else p for p in history.problems
    )
    assert topics(replace(history, problems=problems), knowledge) == []


@pytest.mark.parametrize(
    ("onset", "in_scope"),
    [
        (datetime(2034, 8, 31, tzinfo=TZ), True),  # the day before the 18th birthday
        (datetime(2034, 9, 1, tzinfo=TZ), False),  # on the 18th birthday: adult onset
    ],
)
def test_dermatomyositis_in_scope_only_with_onset_before_18(
    onset: datetime, in_scope: bool
) -> None:
    history = seed_history()
    problems = tuple(p for p in history.problems if p.concept != "jdm")
    problems += (problem("dermatomyositis", "c-dm", onset),)
    assert assess_scope(replace(history, problems=problems), NOW).in_scope is in_scope


def _jdm_recorded(*statuses: str | None) -> TherapyHistory:
    """The seed, its JDM Condition replaced by one per verification status."""
    history = seed_history()
    jdm = next(p for p in history.problems if p.concept == "jdm")
    others = tuple(p for p in history.problems if p.concept != "jdm")
    recorded = tuple(
        replace(jdm, verification_status=status, source=SourceRef("Condition", f"c-jdm-{i}"))
        for i, status in enumerate(statuses)
    )
    return replace(history, problems=others + recorded)


@pytest.mark.parametrize(
    ("statuses", "unconfirmed"),
    [
        (("provisional",), "provisional"),
        (("differential",), "differential"),
        (("unconfirmed",), "unconfirmed"),
        (("differential", "provisional"), "provisional"),
        (("confirmed",), None),
        ((None,), None),  # no verificationStatus: read as before
        (("provisional", "confirmed"), None),  # one confirmed is enough
        (("provisional", None), None),
    ],
)
def test_an_unconfirmed_diagnosis_is_in_scope_and_named(
    statuses: tuple[str | None, ...], unconfirmed: str | None
) -> None:
    """docs/clinical/decision-model.md §0: in scope; every card names it while none is confirmed."""
    scope = assess_scope(_jdm_recorded(*statuses), NOW)
    assert scope.in_scope
    assert scope.unconfirmed == unconfirmed
    assert scope.needs_checking is (unconfirmed is not None)


def test_a_diagnosis_read_by_name_needs_checking() -> None:
    history = seed_history()
    problems = tuple(
        replace(p, matched_by=MatchKind.NAME) if p.concept == "jdm" else p for p in history.problems
    )
    scope = assess_scope(replace(history, problems=problems), NOW)
    assert scope.in_scope and scope.needs_checking and scope.unconfirmed is None


def test_adult_dermatomyositis_without_birth_date_is_out_of_scope() -> None:
    history = seed_history()
    patient = replace(history.patient, birth_date=None, age_years=None)
    problems = tuple(p for p in history.problems if p.concept != "jdm")
    problems += (problem("dermatomyositis", "c-dm", datetime(2020, 1, 1, tzinfo=TZ)),)
    assert not assess_scope(replace(history, patient=patient, problems=problems), NOW).in_scope


def test_weakness_without_red_flag_before_12_weeks_is_first_line_window(
    knowledge: Knowledge,
) -> None:
    history = weak_only()
    assert topics(history, knowledge) == ["first-line-window"]
    finding = run(first_line_window, history, knowledge)[0]
    assert indicator_of(finding, knowledge) == "info"
    assert words(finding, knowledge)["twelve_week_date"] == "2026-05-11"  # 16 Feb + 12 weeks


@pytest.mark.parametrize(
    ("mtx_start", "expected"),
    [
        (NOW - timedelta(weeks=12), "ivig-start"),  # exactly 12 weeks: an adequate trial
        (NOW - timedelta(weeks=12) + timedelta(hours=1), "first-line-window"),
    ],
)
def test_methotrexate_12_week_boundary(
    knowledge: Knowledge, mtx_start: datetime, expected: str
) -> None:
    history = weak_only(methotrexate=methotrexate(mtx_start, 12))
    assert topics(history, knowledge) == [expected]


def test_adequate_trial_gives_warning_not_critical(knowledge: Knowledge) -> None:
    history = weak_only(methotrexate=methotrexate(ago(weeks=13), 13))
    (finding,) = run(ivig_start, history, knowledge)
    assert indicator_of(finding, knowledge) == "warning"
    assert any("13.0 weeks of methotrexate" in line for line in why_lines(finding, knowledge))


def test_steroid_raised_after_taper_escalates(knowledge: Knowledge) -> None:
    course = glucocorticoid((ago(60), "52"), (ago(30), "30"), (ago(5), "40"), raised=True)
    history = weak_only(glucocorticoid=course)
    assert topics(history, knowledge) == ["ivig-start"]


def test_inactive_disease_gets_no_escalation_card(knowledge: Knowledge) -> None:
    history = seed_history()
    problems = tuple(p for p in history.problems if p.concept == "jdm")
    history = with_measurements(
        replace(history, problems=problems), measure("cmas", "50", ago(1), "cmas-2")
    )
    assert topics(history, knowledge) == []


@pytest.mark.parametrize(("cmas", "weak"), [("47", True), ("48", False)])
def test_cmas_48_boundary_defines_weakness(knowledge: Knowledge, cmas: str, weak: bool) -> None:
    history = seed_history()
    problems = tuple(p for p in history.problems if p.concept == "jdm")
    history = with_measurements(
        replace(history, problems=problems), measure("cmas", cmas, ago(1), "cmas-2")
    )
    assert ("first-line-window" in topics(history, knowledge)) is weak


@pytest.mark.parametrize(("cmas", "red_flag"), [("14", True), ("15", False)])
def test_cmas_15_boundary_is_a_red_flag(knowledge: Knowledge, cmas: str, red_flag: bool) -> None:
    history = with_measurements(weak_only(), measure("cmas", cmas, ago(1), "cmas-2"))
    expected = ["ivig-start"] if red_flag else ["first-line-window"]
    assert topics(history, knowledge) == expected
    if red_flag:
        assert indicator_of(run(ivig_start, history, knowledge)[0], knowledge) == "critical"


def test_no_first_line_therapy_means_no_ivig_start(knowledge: Knowledge) -> None:
    history = seed_history(
        methotrexate=None, methylprednisolone_pulses=(), glucocorticoid=None, dose_events=()
    )
    assert topics(history, knowledge) == ["dysphagia-aspiration"]


@pytest.mark.parametrize(
    ("course_start", "expected"),
    [
        # the last course began 35 days ago: on IVIG, the next course not yet overdue
        (NOW - timedelta(days=35), None),
        # 36 days: the next monthly course is overdue (docs/clinical/decision-model.md §4)
        (NOW - timedelta(days=36), "ivig-course-due"),
        # 8 weeks after the last infusion: still overdue, never a fresh start
        (NOW - timedelta(weeks=8, days=2), "ivig-course-due"),
        # exactly 26 weeks: the trial has not lapsed yet
        (NOW - timedelta(weeks=26), "ivig-course-due"),
        # more than 26 weeks: the trial lapsed, IVIG again is a fresh start
        (NOW - timedelta(weeks=26, days=1), "ivig-start"),
    ],
)
def test_one_course_given_then_the_next_is_due_not_a_fresh_start(
    knowledge: Knowledge, course_start: datetime, expected: str | None
) -> None:
    history = jdm_since(
        seed_history(ivig_courses=(ivig_course(course_start, "ivig-a"),)), ago(weeks=52)
    )
    found = set(topics(history, knowledge)) & {"ivig-start", "ivig-course-due"}
    assert found == ({expected} if expected else set())


def test_three_courses_and_still_active_escalates_after_ivig_never_with_ivig_start(
    knowledge: Knowledge,
) -> None:
    courses = tuple(ivig_course(ago(weeks=w), f"ivig-{w}") for w in (20, 16, 12))
    history = jdm_since(seed_history(ivig_courses=courses), ago(weeks=52))
    found = topics(history, knowledge)
    assert "escalate-after-ivig" in found
    assert "ivig-start" not in found and "ivig-course-due" not in found


def test_two_courses_long_ago_restart_ivig(knowledge: Knowledge) -> None:
    courses = tuple(ivig_course(ago(weeks=w), f"ivig-{w}") for w in (31, 27))
    found = topics(jdm_since(seed_history(ivig_courses=courses), ago(weeks=52)), knowledge)
    assert "ivig-start" in found and "escalate-after-ivig" not in found


@pytest.mark.parametrize(
    ("weight_age_days", "usable"),
    [(30, True), (31, False)],
)
def test_weight_30_day_boundary(knowledge: Knowledge, weight_age_days: int, usable: bool) -> None:
    history = without(seed_history(), "weight")
    history = with_measurements(history, measure("weight", "26", ago(weight_age_days), "w-9"))
    findings = {f.topic: f for f in findings_for(history, knowledge)}
    assert (findings["ivig-start"].dose is not None) is usable
    assert ("weight-needed" in findings) is not usable
    if not usable:
        assert findings["ivig-start"].summary_variant == "noDose"
        assert "ivig-draft" not in findings["ivig-start"].suggest
        assert indicator_of(findings["weight-needed"], knowledge) == "warning"


def test_no_weight_gives_weight_needed_and_no_dose(knowledge: Knowledge) -> None:
    findings = {f.topic: f for f in findings_for(without(seed_history(), "weight"), knowledge)}
    assert findings["ivig-start"].dose is None
    assert words(findings["weight-needed"], knowledge)["weight_problem"] == "no weight on record"


def test_40_kg_child_is_capped_at_70_g(knowledge: Knowledge) -> None:
    history = without(seed_history(), "weight")
    history = with_measurements(history, measure("weight", "40", ago(2), "w-40"))
    dose = run(ivig_start, history, knowledge)[0].dose.evidence()
    assert dose is not None and Decimal(dose["courseTotalG"]) == 70 and dose["capped"] is True


def test_a_second_birthday_does_not_matter_for_jdm_code(knowledge: Knowledge) -> None:
    """A JDM code is in scope at any age (JDM persisting into adulthood)."""
    history = seed_history()
    patient = replace(history.patient, birth_date=date(2000, 1, 1), age_years=26)
    assert assess_scope(replace(history, patient=patient), NOW).in_scope


@pytest.mark.parametrize(
    ("category", "concept", "days_ago", "withheld"),
    [
        ("unread-medication", None, 10, True),  # an unrecognised infusion 10 days ago
        ("unread-medication", None, None, True),  # one still in force
        ("route", "ivig", 20, True),  # immune globulin with no route
        ("unparseable", "ivig", 30, True),  # an IVIG record that could not be read
        ("route", "ivig", 60, False),  # older than ivig_recent_weeks (8 weeks = 56 days)
        ("unread-allergy", None, 10, False),  # named, but it cannot be an infusion
        ("unit", "weight", 1, False),
    ],
)
def test_the_ivig_draft_is_withheld_while_an_infusion_could_be_unread(
    knowledge: Knowledge, category: str, concept: str | None, days_ago: int | None, withheld: bool
) -> None:
    left_out = DataQualityNote(
        "MedicationAdministration",
        "x1",
        "unread",
        category,
        concept,  # type: ignore[arg-type]
        ago(days_ago) if days_ago is not None else None,
    )
    (start,) = [
        f
        for f in findings_for(seed_history(data_quality=(left_out,)), knowledge)
        if f.topic == "ivig-start"
    ]
    assert ("ivig-draft" in start.suggest) is not withheld
    assert ("ivig-baseline" in start.suggest) is True
    assert (start.note_keys == ("draftWithheld",)) is withheld


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        # the diagnoses could not all be read: the patient may have JDM, so say so
        (("Condition search cut short after 20 pages",), ["data-quality"]),
        (("Condition fetch did not finish before the deadline",), ["data-quality"]),
        # another search failing says nothing about the diagnosis: no card for a non-JDM patient
        (("Observation search cut short after 20 pages",), []),
        ((), []),
    ],
)
def test_no_jdm_found_in_diagnoses_not_all_read_is_not_silence(
    knowledge: Knowledge, notes: tuple[str, ...], expected: list[str]
) -> None:
    history = replace(
        seed_history(), problems=tuple(p for p in seed_history().problems if p.concept != "jdm")
    )
    assert [f.topic for f in findings_for(history, knowledge, notes)] == expected


def test_a_deceased_patient_gets_nothing_even_with_diagnoses_not_all_read(
    knowledge: Knowledge,
) -> None:
    history = seed_history()
    history = replace(history, patient=replace(history.patient, deceased=True))
    assert findings_for(history, knowledge, ("Condition search cut short after 20 pages",)) == ()
