"""After IVIG and the stand-alone rules: monitoring, escalate-after-ivig, dysphagia, organ
screen, steroid taper, data quality."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from rules_builders import (
    NOW,
    ago,
    context_for,
    glucocorticoid,
    indicator_of,
    ivig_course,
    measure,
    problem,
    run,
    seed_history,
    with_measurements,
    with_problems,
    without,
    words,
)

from cds_service.card_builder.wording import note_lines
from cds_service.history.model import DataQualityNote, ProcedureFact, SourceRef, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules import (
    data_quality,
    dysphagia,
    escalate_after_ivig,
    extramuscular,
    ivig_monitoring,
    steroid_taper,
)


def weak_only(history: TherapyHistory) -> TherapyHistory:
    return replace(history, problems=tuple(p for p in history.problems if p.concept != "dysphagia"))


def on_ivig(weeks_ago: float = 2) -> TherapyHistory:
    return seed_history(ivig_courses=(ivig_course(ago(weeks=weeks_ago), "ivig-1"),))


# --- ivig-monitoring-due ------------------------------------------------------------------


def test_monitoring_due_when_no_labs_or_scores_in_4_weeks(knowledge: Knowledge) -> None:
    history = without(on_ivig(), "ck", "cmas")
    (finding,) = run(ivig_monitoring, history, knowledge)
    assert indicator_of(finding, knowledge) == "info"
    assert words(finding, knowledge)["missing"] == "CK, ESR or CRP and no CMAS or MMT-8"


@pytest.mark.parametrize(("days", "due"), [(28, False), (29, True)])
def test_monitoring_4_week_window(knowledge: Knowledge, days: int, due: bool) -> None:
    history = without(on_ivig(), "ck", "cmas")
    history = with_measurements(
        history, measure("ck", "300", ago(days), "ck-x"), measure("cmas", "40", ago(1), "cm-x")
    )
    assert bool(run(ivig_monitoring, history, knowledge)) is due


def test_no_monitoring_card_without_recent_ivig(knowledge: Knowledge) -> None:
    history = without(on_ivig(weeks_ago=9), "ck", "cmas")
    assert run(ivig_monitoring, history, knowledge) == ()


# --- escalate-after-ivig ------------------------------------------------------------------


def three_courses() -> TherapyHistory:
    # the third course began 4 weeks ago: the response can be judged (decision-model.md §4)
    courses = tuple(ivig_course(ago(weeks=w), f"ivig-{w}") for w in (12, 8, 4))
    return seed_history(ivig_courses=courses)


def test_escalate_after_3_courses_gives_paediatric_rituximab_dose(knowledge: Knowledge) -> None:
    history = with_measurements(
        without(three_courses(), "weight", "height"),
        measure("weight", "30", ago(2), "w-30"),
        measure("height", "130", ago(2), "h-130"),
    )
    (finding,) = run(escalate_after_ivig, history, knowledge)
    assert indicator_of(finding, knowledge) == "warning"
    dose = finding.dose.evidence()
    assert dose is not None
    assert Decimal(dose["bsaM2"]) == Decimal("1.04")
    assert Decimal(dose["perInfusionMg"]) == 780
    assert dose["infusions"] == 2 and dose["intervalDays"] == 7


def test_escalate_without_height_has_no_mg_figure(knowledge: Knowledge) -> None:
    (finding,) = run(escalate_after_ivig, without(three_courses(), "height"), knowledge)
    assert finding.dose is None
    assert "no mg figure" in words(finding, knowledge)["rituximab_option"]


def test_two_courses_do_not_escalate(knowledge: Knowledge) -> None:
    courses = tuple(ivig_course(ago(weeks=w), f"ivig-{w}") for w in (6, 2))
    assert run(escalate_after_ivig, seed_history(ivig_courses=courses), knowledge) == ()


def test_three_courses_in_inactive_disease_do_not_escalate(knowledge: Knowledge) -> None:
    history = three_courses()
    history = replace(history, problems=tuple(p for p in history.problems if p.concept == "jdm"))
    history = with_measurements(history, measure("cmas", "50", ago(1), "cm-9"))
    assert run(escalate_after_ivig, history, knowledge) == ()


def test_organ_involvement_named_for_cyclophosphamide(knowledge: Knowledge) -> None:
    history = with_problems(three_courses(), problem("ild", "c-ild", ago(30), display="ILD"))
    (finding,) = run(escalate_after_ivig, history, knowledge)
    assert "interstitial lung disease" in words(finding, knowledge)["organ_involvement"]
    assert "Condition/c-ild" in finding.all_resources()


# --- dysphagia-aspiration -----------------------------------------------------------------


def test_dysphagia_suggests_swallow_study(knowledge: Knowledge) -> None:
    (finding,) = run(dysphagia, seed_history(), knowledge)
    assert indicator_of(finding, knowledge) == "critical" and finding.suggest == ("vfss",)
    assert finding.all_resources() == ("Condition/c-dys",)


@pytest.mark.parametrize(("days", "suggested"), [(28, False), (29, True)])
def test_swallow_study_within_4_weeks_is_not_suggested_again(
    knowledge: Knowledge, days: int, suggested: bool
) -> None:
    study = ProcedureFact("vfss", ago(days), "completed", SourceRef("Procedure", "vfss-1"))
    history = seed_history(procedures=(*seed_history().procedures, study))
    (finding,) = run(dysphagia, history, knowledge)
    assert (finding.suggest == ("vfss",)) is suggested


def test_aspiration_alone_fires(knowledge: Knowledge) -> None:
    history = weak_only(seed_history())
    history = with_problems(history, problem("aspiration", "c-asp", ago(3)))
    assert run(dysphagia, history, knowledge)[0].topic == "dysphagia-aspiration"


def test_resolved_dysphagia_does_not_fire(knowledge: Knowledge) -> None:
    history = seed_history()
    problems = tuple(
        replace(p, active=False) if p.concept == "dysphagia" else p for p in history.problems
    )
    assert run(dysphagia, replace(history, problems=problems), knowledge) == ()


# --- extramuscular-screen -----------------------------------------------------------------


@pytest.mark.parametrize(("days", "fires"), [(300, False), (400, True)])
def test_organ_screen_within_12_months(knowledge: Knowledge, days: int, fires: bool) -> None:
    procedures = tuple(
        ProcedureFact(c, ago(days), "completed", SourceRef("Procedure", c))
        for c in ("ecg", "echocardiogram", "pft")
    )
    findings = run(extramuscular, seed_history(procedures=procedures), knowledge)
    assert bool(findings) is fires
    if fires:
        assert findings[0].suggest == ("ecg", "echocardiogram", "pft")


def test_only_the_missing_screen_is_suggested(knowledge: Knowledge) -> None:
    procedures = tuple(p for p in seed_history().procedures if p.concept != "pft")
    (finding,) = run(extramuscular, seed_history(procedures=procedures), knowledge)
    assert finding.suggest == ("pft",)
    assert words(finding, knowledge)["missing"] == "pulmonary function tests"


# --- steroid-taper ------------------------------------------------------------------------


def test_seed_taper_follows_the_reference(knowledge: Knowledge) -> None:
    assert run(steroid_taper, seed_history(), knowledge) == ()


def test_under_half_the_start_dose_before_2_months_fires(knowledge: Knowledge) -> None:
    course = glucocorticoid((ago(50), "52"), (ago(40), "40"), (ago(20), "20"))
    (finding,) = run(steroid_taper, seed_history(glucocorticoid=course), knowledge)
    assert indicator_of(finding, knowledge) == "warning"
    assert any(t.name == "taper_floor_before_2_months" for t in finding.thresholds)


def test_more_than_halved_within_4_weeks_fires(knowledge: Knowledge) -> None:
    course = glucocorticoid((ago(150), "52"), (ago(60), "30"), (ago(10), "12"))
    (finding,) = run(steroid_taper, seed_history(glucocorticoid=course), knowledge)
    assert any(t.name == "taper_max_drop_fraction" for t in finding.thresholds)


def test_fast_taper_in_inactive_disease_is_silent(knowledge: Knowledge) -> None:
    course = glucocorticoid((ago(50), "52"), (ago(20), "10"))
    history = seed_history(glucocorticoid=course)
    history = replace(history, problems=tuple(p for p in history.problems if p.concept == "jdm"))
    history = with_measurements(history, measure("cmas", "50", ago(1), "cm-9"))
    assert run(steroid_taper, history, knowledge) == ()


# --- data-quality -------------------------------------------------------------------------


def note(concept: str | None, category: str, days: float | None) -> DataQualityNote:
    at = ago(days) if days is not None else None
    return DataQualityNote(
        "Observation", "obs-x", "unit '[stone_av]' cannot be converted", category, concept, at
    )


@pytest.mark.parametrize(
    ("dq", "shown"),
    [
        (note("weight", "unit", 1), True),  # newer than the usable weight: could change the dose
        (note("weight", "unit", 200), False),  # superseded by the weight of 5 days ago
        (note(None, "unknown-code", None), False),  # an unknown code changes nothing
        (note(None, "other-patient", None), True),
        (note("ldh", "unit", 1), False),  # not read by any rule
        (note("estrogen", "unit", 1), False),  # a contraceptive's dose changes no card
        (note("methotrexate", "unit", 20), True),  # its dose is read
        (note("methotrexate", "other", 400), False),  # older than data_quality_therapy_months
        (note("methotrexate", "other", None), True),  # an order in force: current
    ],
)
def test_data_quality_shows_only_what_could_change_a_card(
    knowledge: Knowledge, dq: DataQualityNote, shown: bool
) -> None:
    findings = run(data_quality, seed_history(data_quality=(dq,)), knowledge)
    assert bool(findings) is shown
    if shown:
        # no resource id in the words; another patient's record is not even in the evidence
        withheld = dq.category == "other-patient"
        assert findings[0].all_resources() == (() if withheld else ("Observation/obs-x",))
        line = note_lines(findings[0], knowledge)[0]
        assert "obs-x" not in line
        assert ("never used for this patient" in line) is withheld


def test_gather_notes_always_shown(knowledge: Knowledge) -> None:
    context = context_for(
        seed_history(), knowledge, ("Observation search cut short after 20 pages",)
    )
    (finding,) = data_quality.evaluate(context, knowledge, NOW)
    assert "cut short" in note_lines(finding, knowledge)[0]


def test_every_record_kind_the_card_names_has_its_words(knowledge: Knowledge) -> None:
    from cds_service.rules.data_quality import DECISION_TYPES

    phrases = {p.removeprefix("dataQuality.record.") for p in knowledge.texts.phrases}
    assert set(DECISION_TYPES) <= phrases
