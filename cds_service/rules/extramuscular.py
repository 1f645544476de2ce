"""Extramuscular screen (docs/clinical/decision-model.md §5): ECG, echocardiogram, lung function.

Fires for any in-scope patient (an active JDM diagnosis), whether the disease is active now or
not, when any screen of decision.json has no record within the window; the summary says "active
JDM" only when the disease assessment finds the disease active. Suggests the missing ones from
the ``jdm-extramuscular`` order set. An order already placed (ServiceRequest active) counts as
present: suggesting it again is noise. A positive anti-MDA5 result with no interstitial lung
disease recorded asks for lung function and chest imaging since the result: a lung function test
from before it no longer counts, and the card says why (variant ``antiMda5``, note ``antiMda5``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.history.model import CodedResult
from cds_service.knowledge.concepts import ProcedureConcept
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, ThresholdUse, unique_refs
from cds_service.rules.severe_organ import anti_mda5_positive

RULE_ID = "extramuscular"
NOTE = "antiMda5"
COUNTING_STATUSES = frozenset({"completed", "in-progress", "active", "preparation", "on-hold"})


@dataclass(frozen=True)
class ExtramuscularSubject:
    missing: tuple[ProcedureConcept, ...]
    anti_mda5: CodedResult | None = None  # positive, with no interstitial lung disease recorded


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
    mda5 = anti_mda5_positive(context.history)
    if mda5 is not None and context.history.active_problems("ild"):
        mda5 = None  # the severe pathway speaks of it with the lung disease
    if mda5 is not None:  # lung function since the positive result
        done = [p for p in done if p.concept != "pft" or (p.at is not None and p.at >= mda5.at)]
    missing = tuple(concept for concept in screen if not any(p.concept == concept for p in done))
    if not missing:
        return ()
    variant = "default" if context.disease.active else "notActive"
    facts = [Fact(p.concept, p.status, None, p.at, p.source) for p in done]
    refs = [p.source for p in done]
    if mda5 is not None and "pft" in missing:
        variant = "antiMda5"
        facts.append(Fact(mda5.concept, mda5.value, None, mda5.at, mda5.source))
        refs.append(mda5.source)
    else:
        mda5 = None
    return (
        Finding(
            topic="extramuscular-screen",
            rule_id=RULE_ID,
            resources=unique_refs(refs),
            facts=tuple(facts),
            thresholds=(ThresholdUse.of(window),),
            subject=ExtramuscularSubject(missing, mda5),
            suggest=missing,
            summary_variant=variant,
            note_keys=(NOTE,) if mda5 is not None else (),
            source_keys=(
                knowledge.topic("extramuscular-screen").note_sources.get(NOTE, ())
                if mda5 is not None
                else ()
            ),
        ),
    )
