"""On IVIG, monitoring due (docs/clinical/decision-model.md §4).

Fires when an IVIG infusion was given within the recency window and, within the monitoring window,
there is no lab of the monitoring labs (CK, ESR or CRP) or no strength score (CMAS or MMT-8);
decision.json lists both groups. Both are needed to judge the IVIG trial, so one missing group is
enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.knowledge.concepts import MeasurementConcept
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, ThresholdUse, unique_refs

RULE_ID = "ivig_monitoring"


@dataclass(frozen=True)
class MonitoringSubject:
    missing_groups: tuple[tuple[MeasurementConcept, ...], ...]  # labs, scores: whichever lack


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    status = context.ivig
    if not status.recent:
        return ()
    window = knowledge.threshold("monitoring_window_weeks")
    groups = (knowledge.decision.monitoring_labs, knowledge.decision.monitoring_scores)
    recent = {
        concept: [
            m
            for m in context.history.series(concept)
            if m.at <= now and not window.crossed_by_elapsed(m.at, now)
        ]
        for group in groups
        for concept in group
    }
    missing = tuple(group for group in groups if not any(recent[c] for c in group))
    if not missing:
        return ()
    present = [m for c in recent for m in recent[c]]
    facts = [
        Fact(
            "last_ivig_infusion",
            status.last_infusion_at.isoformat() if status.last_infusion_at else "",
            None,
            status.last_infusion_at,
        )
    ]
    facts += [Fact.of(m.concept, m) for m in present]
    return (
        Finding(
            topic="ivig-monitoring-due",
            rule_id=RULE_ID,
            resources=unique_refs(list(status.resources) + [m.source for m in present]),
            facts=tuple(facts),
            thresholds=(*status.thresholds, ThresholdUse.of(window)),
            subject=MonitoringSubject(missing),
        ),
    )
