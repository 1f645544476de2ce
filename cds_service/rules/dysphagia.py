"""Dysphagia / aspiration (docs/clinical/decision-model.md §5): a red flag that stands on its own.

Fires on an active Condition of a swallow problem (decision.json), whatever the therapy stage.
Suggests the videofluoroscopic swallow study unless one was done within the recency window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.history.model import ProcedureFact
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, ThresholdUse, unique_refs
from cds_service.rules.refractory import Sign, problem_sign
from cds_service.rules.stale_problems import recent_swallow_studies

RULE_ID = "dysphagia"


@dataclass(frozen=True)
class DysphagiaSubject:
    latest_study: ProcedureFact | None  # a swallow study within the recency window
    signs: tuple[Sign, ...] = ()  # the swallow problems, dated


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    history = context.history
    problems = tuple(
        p
        for concept in knowledge.decision.swallow_problems
        for p in history.active_problems(concept)
    )
    if not problems:
        return ()
    recency = knowledge.threshold("swallow_study_recent_weeks")
    studies = recent_swallow_studies(history, knowledge, now)
    facts = [Fact(p.concept, p.display, None, p.onset or p.recorded, p.source) for p in problems]
    latest = max(studies, key=lambda p: p.at or now) if studies else None
    if latest is not None:
        facts.append(Fact("vfss", latest.status, None, latest.at, latest.source))
    return (
        Finding(
            topic="dysphagia-aspiration",
            rule_id=RULE_ID,
            resources=unique_refs([p.source for p in problems] + [s.source for s in studies]),
            facts=tuple(facts),
            thresholds=(ThresholdUse.of(recency),),
            subject=DysphagiaSubject(latest, tuple(problem_sign(p) for p in problems)),
            suggest=() if latest is not None else ("vfss",),
        ),
    )
