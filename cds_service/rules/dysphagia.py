"""Dysphagia / aspiration (decision-model.md section 5): a red flag that stands on its own.

Fires on an active dysphagia or aspiration Condition, whatever the therapy stage. Suggests the
videofluoroscopic swallow study unless one was done within the recency window.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import Fact, Finding, Indicator, ThresholdUse, unique_refs
from cds_service.rules.timeutil import day, window_start

RULE_ID = "dysphagia"
PRESENT_STATUSES = frozenset({"completed", "in-progress"})


def evaluate(history: TherapyHistory, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    problems = history.active_problems("dysphagia") + history.active_problems("aspiration")
    if not problems:
        return ()
    recency = knowledge.threshold("swallow_study_recent_weeks")
    since = window_start(now, recency)
    studies = [
        p
        for p in history.procedures
        if p.concept == "vfss"
        and p.status in PRESENT_STATUSES
        and p.at is not None
        and since <= p.at <= now
    ]
    facts = [Fact(p.concept, p.display, None, p.onset or p.recorded, p.source) for p in problems]
    if studies:
        latest = max(studies, key=lambda p: p.at or now)
        facts.append(Fact("vfss", latest.status, None, latest.at, latest.source))
        status = f" (a swallow study was done on {day(latest.at)}: review its result)"
        suggest: tuple[str, ...] = ()
    else:
        status = " (none in the last 4 weeks: a draft order is offered)"
        suggest = ("vfss",)
    return (
        Finding(
            topic="dysphagia-aspiration",
            indicator=Indicator.CRITICAL,
            rule_id=RULE_ID,
            resources=unique_refs([p.source for p in problems] + [s.source for s in studies]),
            facts=tuple(facts),
            thresholds=(ThresholdUse.of(recency),),
            texts={"vfss_status": status},
            suggest=suggest,
        ),
    )
