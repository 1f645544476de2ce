"""On IVIG, monitoring due (decision-model.md section 4).

Fires when an IVIG infusion was given within the recency window and, within the monitoring window,
there is no muscle-enzyme/inflammatory result (CK, ESR or CRP) or no strength score (CMAS or
MMT-8). Both groups are needed to judge the IVIG trial, so a missing group is enough.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules import refractory
from cds_service.rules.findings import Fact, Finding, Indicator, ThresholdUse, unique_refs
from cds_service.rules.timeutil import window_start

RULE_ID = "ivig_monitoring"
LAB_CONCEPTS = ("ck", "esr", "crp")
SCORE_CONCEPTS = ("cmas", "mmt8")


def evaluate(history: TherapyHistory, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    disease = refractory.assess(history, knowledge, now)
    status = refractory.ivig_status(history, knowledge, now, disease.active)
    if not status.recent:
        return ()
    window = knowledge.threshold("monitoring_window_weeks")
    since = window_start(now, window)
    recent = {
        c: [m for m in history.series(c) if since <= m.at <= now]
        for c in LAB_CONCEPTS + SCORE_CONCEPTS
    }
    missing = []
    if not any(recent[c] for c in LAB_CONCEPTS):
        missing.append("CK, ESR or CRP")
    if not any(recent[c] for c in SCORE_CONCEPTS):
        missing.append("CMAS or MMT-8")
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
            indicator=Indicator.INFO,
            rule_id=RULE_ID,
            resources=unique_refs(list(status.resources) + [m.source for m in present]),
            facts=tuple(facts),
            thresholds=(*status.thresholds, ThresholdUse.of(window)),
            texts={"missing": " and no ".join(missing), "window_weeks": str(window.value)},
        ),
    )
