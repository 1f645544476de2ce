"""The shared clinical context of one hook call, computed once and passed to every rule.

Scope, the stale problem-list entries (taken out of the history the rules read), the disease
assessment, the IVIG status, the safety checks, the dosing weight and the IVIG
course this patient would get: several rules need each of them, so :func:`build_context` works
each out once per call and the rules read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.dosing import IvigDose, WeightAssessment
from cds_service.history.model import DataQualityNote, Problem, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.thresholds import shift
from cds_service.rules.findings import Effect, SafetyCheckResult
from cds_service.rules.ivig_dose import course_dose
from cds_service.rules.ivig_trial import IvigStatus, ivig_status
from cds_service.rules.refractory import DiseaseAssessment, assess
from cds_service.rules.safety_checks import run_checks
from cds_service.rules.scope import ScopeDecision, assess_scope
from cds_service.rules.stale_problems import StaleProblem, stale_problems, without_stale


@dataclass(frozen=True)
class ClinicalContext:
    history: TherapyHistory
    scope: ScopeDecision
    disease: DiseaseAssessment
    ivig: IvigStatus
    safety_checks: tuple[SafetyCheckResult, ...]  # every check that fired, hard stops first
    weight: WeightAssessment
    ivig_dose: IvigDose | None  # the course for this patient's risks; None without a weight
    gather_notes: tuple[str, ...]  # what the gathering step could not get
    # records in the IVIG look-back the service could not read that could be an infusion: while
    # any exists, no IVIG draft order is offered (docs/clinical/decision-model.md, never silent)
    unread_infusions: tuple[DataQualityNote, ...] = ()
    # active organ-threatening disease (docs/clinical/decision-model.md §5a): its own pathway
    severe_organ: tuple[Problem, ...] = ()
    # old problem-list entries later inactive-range results contradict (§5b): out of `history`,
    # named on the data-quality card
    stale_problems: tuple[StaleProblem, ...] = ()

    @property
    def ivig_starting(self) -> bool:
        """Escalation is due and IVIG is the next step: no IVIG trial under way (given recently,
        ordered or a course overdue), none failed, and no organ-threatening disease (whose
        pathway is expert-centre escalation, IVIG an adjunct)."""
        return (
            self.disease.escalate
            and not self.ivig.on_trial
            and not self.ivig.failing
            and not self.severe_organ
        )

    @property
    def ivig_in_play(self) -> bool:
        """IVIG is due now, being given, or an adjunct the severe pathway names: the moment the
        checks can change what is done."""
        return self.ivig_starting or self.ivig.on_trial or bool(self.severe_organ)

    @property
    def hard_stops(self) -> tuple[SafetyCheckResult, ...]:
        return tuple(c for c in self.safety_checks if c.effect is Effect.HARD_STOP)

    def draft_by_specialist(self, knowledge: Knowledge) -> bool:
        """A check fired after which the IVIG product and rate are a specialist's choice
        (cards/decision.json ivigDraftBySpecialist): no IVIG draft order is offered."""
        codes = knowledge.decision.draft_by_specialist
        return any(c.code in codes for c in self.safety_checks)


def build_context(
    history: TherapyHistory,
    knowledge: Knowledge,
    now: datetime,
    gather_notes: tuple[str, ...] = (),
) -> ClinicalContext:
    """The context of one call. `history` as read; the rules get it without its stale
    problem-list entries (only an in-scope patient's are judged: no one else gets a card)."""
    scope = assess_scope(history, now)
    stale = stale_problems(history, knowledge, now) if scope.in_scope else ()
    history = without_stale(history, stale)
    disease = assess(history, knowledge, now)
    checks = run_checks(history, knowledge, now)
    risks = {check.code for check in checks if check.effect is not Effect.NOTE}
    weight, dose = course_dose(history, knowledge, now, risks)
    return ClinicalContext(
        history=history,
        scope=scope,
        disease=disease,
        ivig=ivig_status(history, knowledge, now, disease.active),
        safety_checks=checks,
        weight=weight,
        ivig_dose=dose,
        gather_notes=gather_notes,
        unread_infusions=unread_infusions(
            history, shift(now, knowledge.threshold("ivig_recent_weeks"), -1)
        ),
        severe_organ=severe_organ_problems(history, knowledge),
        stale_problems=stale,
    )


def severe_organ_problems(history: TherapyHistory, knowledge: Knowledge) -> tuple[Problem, ...]:
    """Active organ-threatening problems: those of decision.json ``severeOrganDisease``, and those
    of ``severeWhenGraded`` recorded as severe."""
    lists = knowledge.decision
    always = [p for c in lists.severe_organ for p in history.active_problems(c)]
    graded = [p for c in lists.severe_when_graded for p in history.active_problems(c) if p.severe]
    return tuple(always + graded)


# what a note about an IVIG record (or an unrecognised infusion) says that leaves it unread
UNREAD_CATEGORIES = frozenset({"unparseable", "no-date", "unread-medication", "route"})


def unread_infusions(history: TherapyHistory, since: datetime) -> tuple[DataQualityNote, ...]:
    """Notes of records since `since` (or undated) that could be an IVIG infusion unread."""
    return tuple(
        note
        for note in history.data_quality
        if note.category in UNREAD_CATEGORIES
        and note.concept in (None, "ivig")
        and (note.category == "unread-medication" or note.concept == "ivig")
        and (note.at is None or note.at >= since)
    )
