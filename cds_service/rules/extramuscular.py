"""Extramuscular screen (decision-model.md section 5): ECG, echocardiogram, lung function.

Fires in active JDM (any in-scope patient) when any of the three has no record within the window;
suggests the missing ones from the ``jdm-extramuscular`` order set. An order already placed
(ServiceRequest active) counts as present: suggesting it again is noise.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import Fact, Finding, Indicator, ThresholdUse, unique_refs
from cds_service.rules.timeutil import window_start

RULE_ID = "extramuscular"
SCREEN = {"ecg": "ECG", "echocardiogram": "echocardiogram", "pft": "pulmonary function tests"}
COUNTING_STATUSES = frozenset({"completed", "in-progress", "active", "preparation", "on-hold"})


def evaluate(history: TherapyHistory, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    window = knowledge.threshold("extramuscular_screen_months")
    since = window_start(now, window)
    done = [
        p
        for p in history.procedures
        if p.concept in SCREEN
        and p.status in COUNTING_STATUSES
        and ((p.at is None and p.status != "completed") or (p.at is not None and p.at >= since))
    ]
    missing = [concept for concept in SCREEN if not any(p.concept == concept for p in done)]
    if not missing:
        return ()
    return (
        Finding(
            topic="extramuscular-screen",
            indicator=Indicator.INFO,
            rule_id=RULE_ID,
            resources=unique_refs(p.source for p in done),
            facts=tuple(Fact(p.concept, p.status, None, p.at, p.source) for p in done),
            thresholds=(ThresholdUse.of(window),),
            texts={
                "missing": ", ".join(SCREEN[c] for c in missing),
                "window_months": str(window.value),
            },
            suggest=tuple(missing),
        ),
    )
