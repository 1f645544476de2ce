"""Stale problem-list entries (docs/clinical/decision-model.md §5b): an old entry that later
strength scores and CK contradict is named, not counted.

A Condition of weakness or of a swallowing or voice problem (decision.json ``staleWhenInactive``)
is stale when all of these hold:

* it is on the problem list (a Condition, not an Observation or a phrase in a note: those are
  findings of the day and lapse on their own) and is at least ``problem_stale_months`` old, dated
  by the later of its onset and its recording;
* a CMAS or an MMT-8 was recorded after it, and the latest CMAS, MMT-8 and CK recorded after it
  are all in the inactive range (CMAS and MMT-8 not below ``cmas_weakness`` / ``mmt8_weakness``,
  CK at most ``ck_inactive_u_l``); a CK alone never makes an entry stale (CK is often normal in
  active JDM);
* nothing current backs it: no other active record of the same problem that is not itself stale
  (a dysphagia Observation last week keeps the old Condition in play), and for a swallow problem
  no swallow study within ``swallow_study_recent_weeks`` (someone is looking at the swallow now).

A stale entry counts neither as activity nor as a red flag: :func:`without_stale` takes it out of
the history the rules read, and the data-quality card names it with the results that contradict
it, so the clinician updates the problem list or records why it still applies.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from cds_service.history.model import Measurement, Problem, ProcedureFact, TherapyHistory
from cds_service.knowledge.concepts import MeasurementConcept
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import ThresholdUse

# the results that can contradict an entry, each with the threshold whose side is "inactive":
# a strength score is inactive when it does not cross its weakness threshold, a CK when it
# crosses its inactive ceiling
STRENGTH_SCORES: tuple[tuple[MeasurementConcept, str], ...] = (
    ("cmas", "cmas_weakness"),
    ("mmt8", "mmt8_weakness"),
)
CK: tuple[MeasurementConcept, str] = ("ck", "ck_inactive_u_l")
STUDY_STATUSES = frozenset({"completed", "in-progress"})  # a swallow study done or under way


@dataclass(frozen=True)
class StaleProblem:
    problem: Problem
    since: datetime  # the entry's date: the later of its onset and its recording
    results: tuple[Measurement, ...]  # the latest CMAS, MMT-8 and CK after it, all inactive


def stale_problems(
    history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> tuple[StaleProblem, ...]:
    """The stale entries of the history, in the order of decision.json's list."""
    swallow_checked = bool(recent_swallow_studies(history, knowledge, now))
    found: list[StaleProblem] = []
    for concept in knowledge.decision.stale_when_inactive:
        if swallow_checked and concept in knowledge.decision.swallow_problems:
            continue
        problems = history.active_problems(concept)
        stale = [s for p in problems if (s := _stale(p, history, knowledge, now)) is not None]
        if stale and len(stale) == len(problems):  # nothing current backs the entry
            found += stale
    return tuple(found)


def without_stale(history: TherapyHistory, stale: tuple[StaleProblem, ...]) -> TherapyHistory:
    """The history the rules read: the stale entries taken out."""
    if not stale:
        return history
    # by record and concept: one Condition may name two problems, only one of them stale
    dropped = {(s.problem.source, s.problem.concept) for s in stale}
    kept = tuple(p for p in history.problems if (p.source, p.concept) not in dropped)
    return replace(history, problems=kept)


def thresholds_used(knowledge: Knowledge) -> tuple[ThresholdUse, ...]:
    """The thresholds a stale judgement compares with (the card's evidence lists them)."""
    names = ("problem_stale_months", *(name for _, name in (*STRENGTH_SCORES, CK)))
    return tuple(ThresholdUse.of(knowledge.threshold(name)) for name in names)


def recent_swallow_studies(
    history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> tuple[ProcedureFact, ...]:
    """Swallow studies done or under way within ``swallow_study_recent_weeks``."""
    recency = knowledge.threshold("swallow_study_recent_weeks")
    return tuple(
        p
        for p in history.procedures
        if p.concept == "vfss"
        and p.status in STUDY_STATUSES
        and p.at is not None
        and p.at <= now
        and recency.crossed_by_elapsed(p.at, now)
    )


def _stale(
    problem: Problem, history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> StaleProblem | None:
    if problem.source.resource_type != "Condition":
        return None
    dates = [d for d in (problem.onset, problem.recorded) if d is not None]
    if not dates:  # an undated entry cannot be shown to be older than anything
        return None
    since = max(dates)
    if not knowledge.threshold("problem_stale_months").crossed_by_elapsed(since, now):
        return None
    scores = _later(history, STRENGTH_SCORES, since)
    if not scores:
        return None
    results = scores + _later(history, (CK,), since)
    if not all(_inactive(m, name, knowledge) for m, name in results):
        return None
    return StaleProblem(problem, since, tuple(m for m, _ in results))


def _later(
    history: TherapyHistory, concepts: tuple[tuple[MeasurementConcept, str], ...], since: datetime
) -> list[tuple[Measurement, str]]:
    """The latest result of each concept, when it was recorded after `since`."""
    found = []
    for concept, name in concepts:
        latest = history.latest(concept)
        if latest is not None and latest.at > since:
            found.append((latest, name))
    return found


def _inactive(measurement: Measurement, name: str, knowledge: Knowledge) -> bool:
    threshold = knowledge.threshold(name)
    crossed = threshold.crossed(measurement.value)
    return crossed if (measurement.concept, name) == CK else not crossed
