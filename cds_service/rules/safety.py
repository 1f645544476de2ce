"""IVIG safety (docs/clinical/safety.md): warnings become ``ivig-safety-*`` findings.

The checks run once per call (:mod:`cds_service.rules.context`). Their warnings get cards of
their own when IVIG is due or being given (an infusion within the recency window): that is when a
product, rate or split can still be changed. Hard stops and notes change the ``ivig-start`` card
instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.dosing import IvigDose
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Effect, Finding, SafetyCheckResult

RULE_ID = "safety"


@dataclass(frozen=True)
class SafetyWarningSubject:
    check: SafetyCheckResult
    dose: IvigDose | None  # the course the ivig-start card states (for the fluid volume)


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    if not context.ivig_in_play:
        return ()
    return tuple(
        Finding(
            topic=f"ivig-safety-{result.code}",
            rule_id=RULE_ID,
            resources=result.resources,
            facts=result.facts,
            thresholds=result.thresholds,
            safety_checks=(result,),
            subject=SafetyWarningSubject(result, context.ivig_dose),
        )
        for result in context.safety_checks
        if result.effect is Effect.WARNING
    )
