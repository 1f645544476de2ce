"""Who is in scope (docs/clinical/decision-model.md section 0).

A living patient with an active JDM diagnosis: a JDM code, or a dermatomyositis code whose onset
(or, without an onset, its first record) falls before the 18th birthday. Everyone else gets no
cards from this service. Refuted and entered-in-error Conditions never reach the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.history.model import Problem, TherapyHistory
from cds_service.rules.timeutil import add_months

RULE_ID = "scope"
ADULT_AGE_MONTHS = 18 * 12


@dataclass(frozen=True)
class ScopeDecision:
    in_scope: bool
    reason: str  # PHI-free, for logs and the CLI
    no_diagnosis: bool = False  # out of scope only for want of a JDM diagnosis in what was read


def assess_scope(history: TherapyHistory, now: datetime) -> ScopeDecision:
    if history.patient.deceased:
        return ScopeDecision(False, "patient is deceased")
    juvenile = history.active_problems("jdm")
    if juvenile:
        return ScopeDecision(True, "active juvenile dermatomyositis")
    childhood_onset = tuple(
        p for p in history.active_problems("dermatomyositis") if _onset_before_18(p, history)
    )
    if childhood_onset:
        return ScopeDecision(True, "dermatomyositis with onset before 18")
    if history.active_problems("dermatomyositis"):
        return ScopeDecision(False, "dermatomyositis with onset at 18 or later (or age unknown)")
    return ScopeDecision(False, "no active JDM diagnosis", no_diagnosis=True)


def _onset_before_18(problem: Problem, history: TherapyHistory) -> bool:
    birth_date = history.patient.birth_date
    onset = problem.onset or problem.recorded
    if birth_date is None or onset is None:
        # Without a birth date or any date for the diagnosis, onset before 18 cannot be shown:
        # only a child who is under 18 now must have had onset before 18.
        age = history.patient.age_years
        return age is not None and age < 18
    birth = datetime(birth_date.year, birth_date.month, birth_date.day, tzinfo=onset.tzinfo)
    eighteenth_birthday = add_months(birth, ADULT_AGE_MONTHS)
    return onset < eighteenth_birthday
