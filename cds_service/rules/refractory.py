"""Is the disease active, is it refractory, and is it time to escalate
(docs/clinical/decision-model.md §2-4).

Active disease: an active Condition of an activity problem (decision.json, e.g. muscle weakness
or dysphagia), or the latest strength score showing weakness (CMAS or MMT-8 crossing its
threshold). Escalate when the patient has had first-line therapy (a glucocorticoid and
methotrexate), the disease is active, and either a red flag is present or the response is
inadequate after an adequate trial (methotrexate for the trial's weeks, or a glucocorticoid dose
raised again after a taper). This module decides; the rule modules turn the decision into findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from cds_service.history.model import Measurement, Problem, SourceRef, TherapyHistory
from cds_service.knowledge.concepts import MeasurementConcept, ProblemConcept
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.thresholds import Threshold
from cds_service.rules.findings import Fact, ThresholdUse
from cds_service.rules.timeutil import day, weeks_between

RULE_ID = "refractory"
SCORES: tuple[tuple[MeasurementConcept, str, str], ...] = (
    # concept, weakness threshold, red-flag threshold
    ("cmas", "cmas_weakness", "cmas_red_flag"),
    ("mmt8", "mmt8_weakness", "mmt8_red_flag"),
)


@dataclass(frozen=True)
class Sign:
    """One piece of evidence of active disease: an active Condition or a low strength score."""

    kind: Literal["problem", "score"]
    concept: ProblemConcept | MeasurementConcept
    source: SourceRef
    at: datetime | None
    problem: Problem | None = None
    measurement: Measurement | None = None
    threshold: ThresholdUse | None = None  # the score threshold crossed
    severe: bool = False  # a red-flag score (severe weakness), not only weakness


@dataclass(frozen=True)
class DiseaseAssessment:
    active: bool
    activity: tuple[Sign, ...]
    red_flags: tuple[Sign, ...]
    had_glucocorticoid: bool
    methotrexate_start: datetime | None
    methotrexate_weeks: Decimal | None  # exposure, first dose to now or to its stop, one decimal
    methotrexate_stopped_at: datetime | None  # the last dose of a stopped methotrexate
    methotrexate_adequate: bool
    steroid_dependent: bool
    first_line: bool  # glucocorticoid and methotrexate both on record
    escalate: bool
    facts: tuple[Fact, ...]
    thresholds: tuple[ThresholdUse, ...]
    resources: tuple[SourceRef, ...]


def assess(history: TherapyHistory, knowledge: Knowledge, now: datetime) -> DiseaseAssessment:
    activity, activity_facts, activity_thresholds = _activity(history, knowledge)
    red_flags, flag_thresholds = _red_flags(history, knowledge)
    had_glucocorticoid = bool(
        history.methylprednisolone_pulses
        or history.glucocorticoid is not None
        or history.doses("glucocorticoid-oral")
    )
    mtx = history.methotrexate
    mtx_start = mtx.first_dose_at if mtx is not None else None
    mtx_end = methotrexate_exposure_end(history, knowledge, now)
    trial = knowledge.threshold("methotrexate_adequate_trial_weeks")
    mtx_adequate = mtx_start is not None and trial.crossed_by_elapsed(mtx_start, mtx_end)
    steroid_dependent = bool(history.glucocorticoid and history.glucocorticoid.raised_after_taper)
    active = bool(activity)
    first_line = had_glucocorticoid and mtx_start is not None
    escalate = active and first_line and bool(red_flags or mtx_adequate or steroid_dependent)
    facts = activity_facts + _methotrexate_facts(history, mtx_end)
    signs = [s.source for s in activity + red_flags]
    resources = tuple(sorted(set(signs) | set(_therapy_resources(history))))
    return DiseaseAssessment(
        active=active,
        activity=activity,
        red_flags=red_flags,
        had_glucocorticoid=had_glucocorticoid,
        methotrexate_start=mtx_start,
        methotrexate_weeks=weeks_between(mtx_start, mtx_end) if mtx_start is not None else None,
        methotrexate_stopped_at=mtx.last_dose_at if mtx is not None and not mtx.active else None,
        methotrexate_adequate=mtx_adequate,
        steroid_dependent=steroid_dependent,
        first_line=first_line,
        escalate=escalate,
        facts=facts,
        thresholds=activity_thresholds + flag_thresholds + (ThresholdUse.of(trial),),
        resources=resources,
    )


def methotrexate_exposure_end(
    history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> datetime:
    """Now while methotrexate goes on; for a stopped one, a dosing interval after its last dose
    (exposure counts to the stop, not to today: docs/clinical/decision-model.md §2)."""
    mtx = history.methotrexate
    if mtx is None or mtx.active or mtx.last_dose_at is None:
        return now
    return min(now, mtx.last_dose_at + knowledge.history_policy.methotrexate_interval)


def _methotrexate_facts(history: TherapyHistory, now: datetime) -> tuple[Fact, ...]:
    mtx = history.methotrexate
    if mtx is None or mtx.first_dose_at is None:
        return ()
    first_source = mtx.events[0].source if mtx.events else None
    return (
        Fact(
            "methotrexate_first_dose", day(mtx.first_dose_at), None, mtx.first_dose_at, first_source
        ),
        Fact("methotrexate_weeks", str(weeks_between(mtx.first_dose_at, now)), "wk"),
    )


def _therapy_resources(history: TherapyHistory) -> list[SourceRef]:
    """The first-line therapy records the decision rests on (pulses, methotrexate, steroid)."""
    refs = [d.source for d in history.methylprednisolone_pulses]
    refs += [d.source for d in history.doses("glucocorticoid-oral")]
    if history.methotrexate is not None:
        refs += [e.source for e in history.methotrexate.events]
    if history.glucocorticoid is not None:
        refs += [p.source for p in history.glucocorticoid.points]
    return refs


def problem_sign(problem: Problem) -> Sign:
    return Sign("problem", problem.concept, problem.source, problem.onset, problem=problem)


def _activity(
    history: TherapyHistory, knowledge: Knowledge
) -> tuple[tuple[Sign, ...], tuple[Fact, ...], tuple[ThresholdUse, ...]]:
    signs = [
        problem_sign(p)
        for concept in knowledge.decision.activity_problems
        for p in history.active_problems(concept)
    ]
    facts: list[Fact] = []
    used: list[ThresholdUse] = []
    for concept, weakness, _ in SCORES:
        latest = history.latest(concept)
        if latest is None:
            continue
        threshold = knowledge.threshold(weakness)
        used.append(ThresholdUse.of(threshold))
        facts.append(Fact.of(concept, latest))
        if threshold.crossed(latest.value):
            signs.append(_score_sign(latest, threshold, severe=False))
    return tuple(signs), tuple(facts), tuple(used)


def _red_flags(
    history: TherapyHistory, knowledge: Knowledge
) -> tuple[tuple[Sign, ...], tuple[ThresholdUse, ...]]:
    flags = [
        problem_sign(p)
        for concept in knowledge.decision.red_flag_problems
        for p in history.active_problems(concept)
    ]
    used: list[ThresholdUse] = []
    for concept, _, red_flag in SCORES:
        latest = history.latest(concept)
        if latest is None:
            continue
        threshold = knowledge.threshold(red_flag)
        used.append(ThresholdUse.of(threshold))
        if threshold.crossed(latest.value):
            flags.append(_score_sign(latest, threshold, severe=True))
    return tuple(flags), tuple(used)


def _score_sign(measurement: Measurement, threshold: Threshold, *, severe: bool) -> Sign:
    return Sign(
        "score",
        measurement.concept,
        measurement.source,
        measurement.at,
        measurement=measurement,
        threshold=ThresholdUse.of(threshold),
        severe=severe,
    )
