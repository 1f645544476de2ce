"""Stale problem-list entries (docs/clinical/decision-model.md §5b): an old weakness or dysphagia
Condition that the later strength scores and CK contradict is named, not counted."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from rules_builders import (
    NOW,
    ProcedureFact,
    ago,
    context_for,
    findings_for,
    measure,
    seed_history,
    with_measurements,
    without,
)

from cds_service.history.model import SourceRef, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.data_quality import DataQualitySubject

OLD = datetime(2024, 3, 12, tzinfo=NOW.tzinfo)


def old_entries(
    *, cmas: str = "52", mmt8: str = "80", ck: str = "95", at: datetime | None = None
) -> TherapyHistory:
    """The seed with its weakness and dysphagia entered in March 2024 and never updated, and
    (by default) CMAS 52, MMT-8 80 and CK 95 U/L 5 days ago."""
    history = seed_history()
    problems = tuple(
        replace(p, onset=OLD, recorded=OLD) if p.concept in ("muscle-weakness", "dysphagia") else p
        for p in history.problems
    )
    when = at or ago(5)
    return with_measurements(
        replace(history, problems=problems),
        measure("cmas", cmas, when, "cmas-2"),
        measure("mmt8", mmt8, when, "mmt8-1"),
        measure("ck", ck, when, "ck-2"),
        replace_concepts=True,
    )


def stale_concepts(history: TherapyHistory, knowledge: Knowledge) -> set[str]:
    return {s.problem.concept for s in context_for(history, knowledge).stale_problems}


def topics(history: TherapyHistory, knowledge: Knowledge) -> set[str]:
    return {f.topic for f in findings_for(history, knowledge)}


def test_old_entries_contradicted_by_inactive_results_are_named_not_counted(
    knowledge: Knowledge,
) -> None:
    history = old_entries()
    context = context_for(history, knowledge)
    assert {s.problem.concept for s in context.stale_problems} == {"muscle-weakness", "dysphagia"}
    assert not context.disease.active and not context.disease.red_flags
    findings = findings_for(history, knowledge)
    assert {f.topic for f in findings} == {"data-quality"}
    (card,) = findings
    assert card.summary_variant == "stale"
    assert isinstance(card.subject, DataQualitySubject) and card.subject.count == 2
    refs = {r.reference for r in card.resources}
    assert {"Condition/c-weak", "Condition/c-dys", "Observation/cmas-2"} <= refs
    assert {t.name for t in card.thresholds} >= {"problem_stale_months", "ck_inactive_u_l"}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"cmas": "47"}, "a CMAS below 48 is weakness"),
        ({"mmt8": "77"}, "an MMT-8 below 78 is weakness"),
        ({"ck": "151"}, "a CK above 150 U/L is not in the inactive range"),
        ({"at": OLD.replace(month=2)}, "results older than the entry say nothing about it"),
    ],
)
def test_results_that_do_not_contradict_the_entry_leave_it_counted(
    change: dict[str, object], why: str, knowledge: Knowledge
) -> None:
    history = old_entries(**change)  # type: ignore[arg-type]
    assert stale_concepts(history, knowledge) == set(), why
    assert {"ivig-start", "dysphagia-aspiration"} <= topics(history, knowledge), why


def test_ck_at_150_is_in_the_inactive_range(knowledge: Knowledge) -> None:
    assert stale_concepts(old_entries(ck="150"), knowledge) == {"muscle-weakness", "dysphagia"}


def test_a_normal_ck_alone_never_makes_an_entry_stale(knowledge: Knowledge) -> None:
    history = without(old_entries(), "cmas", "mmt8")
    assert stale_concepts(history, knowledge) == set()


def test_an_entry_recorded_recently_about_an_old_onset_is_current(knowledge: Knowledge) -> None:
    history = old_entries()
    problems = tuple(
        replace(p, recorded=ago(200)) if p.concept == "dysphagia" else p for p in history.problems
    )
    # recorded 200 days ago: older than 6 months, still before the scores -> stale
    assert "dysphagia" in stale_concepts(replace(history, problems=problems), knowledge)
    problems = tuple(
        replace(p, recorded=ago(30)) if p.concept == "dysphagia" else p for p in history.problems
    )
    assert "dysphagia" not in stale_concepts(replace(history, problems=problems), knowledge)


def test_an_undated_entry_is_counted(knowledge: Knowledge) -> None:
    history = old_entries()
    problems = tuple(
        replace(p, onset=None, recorded=None) if p.concept == "muscle-weakness" else p
        for p in history.problems
    )
    assert stale_concepts(replace(history, problems=problems), knowledge) == {"dysphagia"}


def test_a_current_finding_of_the_same_problem_keeps_the_old_entry(knowledge: Knowledge) -> None:
    history = old_entries()
    old = next(p for p in history.problems if p.concept == "dysphagia")
    observed = replace(old, onset=ago(3), recorded=ago(3), source=SourceRef("Observation", "o1"))
    history = replace(history, problems=(*history.problems, observed))
    assert stale_concepts(history, knowledge) == {"muscle-weakness"}
    finding = next(f for f in findings_for(history, knowledge) if f.topic == "dysphagia-aspiration")
    assert {"Condition/c-dys", "Observation/o1"} <= {r.reference for r in finding.resources}


def test_an_old_observation_is_never_a_stale_problem_list_entry(knowledge: Knowledge) -> None:
    history = old_entries()
    problems = tuple(
        replace(p, source=SourceRef("Observation", "o-dys")) if p.concept == "dysphagia" else p
        for p in history.problems
    )
    assert stale_concepts(replace(history, problems=problems), knowledge) == {"muscle-weakness"}


def test_a_recent_swallow_study_keeps_dysphagia(knowledge: Knowledge) -> None:
    study = ProcedureFact("vfss", ago(10), "completed", SourceRef("Procedure", "vfss"))
    history = replace(old_entries(), procedures=(*seed_history().procedures, study))
    assert stale_concepts(history, knowledge) == {"muscle-weakness"}
    assert "dysphagia-aspiration" in topics(history, knowledge)


def test_lung_disease_is_never_stale(knowledge: Knowledge) -> None:
    """Muscle scores say nothing about the lung: an old ILD entry still fires the severe card."""
    history = old_entries()
    ild = replace(
        history.problems[0], concept="ild", display="ILD", source=SourceRef("Condition", "ild")
    )
    history = replace(history, problems=(*history.problems, ild))
    assert "ild" not in stale_concepts(history, knowledge)
    assert "severe-organ-disease" in topics(history, knowledge)


def test_no_one_out_of_scope_gets_a_stale_entry_named(knowledge: Knowledge) -> None:
    history = old_entries()
    history = replace(history, problems=tuple(p for p in history.problems if p.concept != "jdm"))
    assert context_for(history, knowledge).stale_problems == ()
    assert topics(history, knowledge) == set()


def test_one_condition_naming_two_problems_loses_only_the_stale_one(knowledge: Knowledge) -> None:
    """A Condition read as weakness and dysphagia: a swallow study this week keeps its
    dysphagia, while its weakness is stale."""
    history = old_entries()
    weak = next(p for p in history.problems if p.concept == "muscle-weakness")
    both = replace(weak, concept="dysphagia")
    problems = tuple(p for p in history.problems if p.concept != "dysphagia")
    study = ProcedureFact("vfss", ago(3), "completed", SourceRef("Procedure", "vfss"))
    history = replace(
        history,
        problems=(*problems, both),
        procedures=(*history.procedures, study),
    )
    context = context_for(history, knowledge)
    assert {s.problem.concept for s in context.stale_problems} == {"muscle-weakness"}
    assert [p.concept for p in context.history.problems if p.source == weak.source] == ["dysphagia"]
