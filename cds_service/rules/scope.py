"""Who is in scope (docs/clinical/decision-model.md section 0).

A living patient with an active JDM diagnosis: a JDM code, or a dermatomyositis code whose onset
(or, without an onset, its first record) falls before the 18th birthday. Everyone else gets no
cards from this service. Refuted and entered-in-error Conditions never reach the history.

A diagnosis recorded only as provisional, differential or unconfirmed (Condition.verificationStatus)
keeps the patient in scope, but every card names it as unconfirmed (``unconfirmed``); one with
a confirmed status, or none, does not. The Conditions that put the patient in scope are kept
(``diagnoses``) so a card can show them in its evidence when they need checking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.history.model import MatchKind, Problem, TherapyHistory
from cds_service.rules.timeutil import add_months

RULE_ID = "scope"
ADULT_AGE_YEARS = 18  # scope, the bedside eGFR and the rituximab wording all use it
ADULT_AGE_MONTHS = ADULT_AGE_YEARS * 12


# verification statuses that leave the diagnosis unconfirmed (FHIR condition-ver-status)
UNCONFIRMED_STATUSES = ("provisional", "differential", "unconfirmed")


@dataclass(frozen=True)
class ScopeDecision:
    in_scope: bool
    reason: str  # PHI-free, for logs and the CLI
    diagnoses: tuple[Problem, ...] = ()  # the active Conditions that put the patient in scope
    no_diagnosis: bool = False  # out of scope only for want of a JDM diagnosis in what was read

    @property
    def unconfirmed(self) -> str | None:
        """The verification status when no diagnosis is confirmed (``provisional``...), else
        None: one confirmed Condition, or one with no verification status, is enough."""
        statuses = [p.verification_status for p in self.diagnoses]
        if not statuses or any(s not in UNCONFIRMED_STATUSES for s in statuses):
            return None
        return next(s for s in UNCONFIRMED_STATUSES if s in statuses)

    @property
    def needs_checking(self) -> bool:
        """The diagnosis was read from words, not a code, or is unconfirmed: its records belong
        in every card's evidence."""
        return self.unconfirmed is not None or any(
            p.matched_by is MatchKind.NAME for p in self.diagnoses
        )


def assess_scope(history: TherapyHistory, now: datetime) -> ScopeDecision:
    if history.patient.deceased:
        return ScopeDecision(False, "patient is deceased")
    juvenile = history.active_problems("jdm")
    if juvenile:
        return ScopeDecision(True, "active juvenile dermatomyositis", juvenile)
    childhood_onset = tuple(
        p for p in history.active_problems("dermatomyositis") if _onset_before_18(p, history)
    )
    if childhood_onset:
        return ScopeDecision(True, "dermatomyositis with onset before 18", childhood_onset)
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
