"""Extramuscular screen (docs/clinical/decision-model.md §5): ECG, echocardiogram, lung function.

Fires for any in-scope patient (an active JDM diagnosis), whether the disease is active now or
not, when any screen of decision.json has no record within the window; the summary says "active
JDM" only when the disease assessment finds the disease active. Suggests the missing ones from
the ``jdm-extramuscular`` order set. An order already placed (ServiceRequest active) counts as
present: suggesting it again is noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.knowledge.concepts import ProcedureConcept
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, ThresholdUse, unique_refs

RULE_ID = "extramuscular"
COUNTING_STATUSES = frozenset({"completed", "in-progress", "active", "preparation", "on-hold"})


@dataclass(frozen=True)
class ExtramuscularSubject:
    missing: tuple[ProcedureConcept, ...]


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    window = knowledge.threshold("extramuscular_screen_months")
    screen = knowledge.decision.extramuscular_screen
    done = [
        p
        for p in context.history.procedures
        if p.concept in screen
        and p.status in COUNTING_STATUSES
        and (
            (p.at is None and p.status != "completed")
            or (p.at is not None and not window.crossed_by_elapsed(p.at, now))
        )
    ]
    missing = tuple(concept for concept in screen if not any(p.concept == concept for p in done))
    if not missing:
        return ()
    return (
        Finding(
            topic="extramuscular-screen",
            rule_id=RULE_ID,
            resources=unique_refs(p.source for p in done),
            facts=tuple(Fact(p.concept, p.status, None, p.at, p.source) for p in done),
            thresholds=(ThresholdUse.of(window),),
            subject=ExtramuscularSubject(missing),
            suggest=missing,
            summary_variant="default" if context.disease.active else "notActive",
        ),
    )
