"""Organ-threatening JDM (docs/clinical/decision-model.md §5a): its own pathway, at any stage.

Fires on an active Condition of interstitial lung disease, myocarditis, GI vasculopathy or
aspiration, or a dysphagia recorded as severe (decision.json ``severeOrganDisease`` and
``severeWhenGraded``), whatever therapy has run so far. The card says: urgent expert-centre
review; IV methylprednisolone with IV cyclophosphamide or combination therapy [SHARE2017]; IVIG as
an adjunct, never the IVIG-first "judge after 3 monthly courses" pathway, which it replaces
(:attr:`ClinicalContext.ivig_starting` is False while this fires). The cyclophosphamide range is
given in mg only with a BSA (a usable weight and a height near it). The IVIG adjunct's dose carries
the safety checks, so myocarditis gets the 5-day split and the at-risk rate. Cyclophosphamide
already given is named with its doses, last date and total (:mod:`cds_service.rules.tried`).
With interstitial lung disease, a positive anti-MDA5 result (the latest one) is named with its date
as the highest risk of rapidly progressive ILD [Kobayashi2024].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.dosing import IvigDose, select_height
from cds_service.dosing.cyclophosphamide import CyclophosphamideDose, cyclophosphamide_dose
from cds_service.history.model import CodedResult, Problem, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, unique_refs
from cds_service.rules.tried import AgentTried, agent_tried

RULE_ID = "severe_organ"
TOPIC = "severe-organ-disease"
CARDIAC = frozenset({"myocarditis"})


@dataclass(frozen=True)
class SevereOrganSubject:
    problems: tuple[Problem, ...]
    cyclophosphamide: CyclophosphamideDose | None  # None without a usable weight and a height
    ivig_dose: IvigDose | None  # the adjunct course for this patient's risks
    cardiac: bool  # cardiac involvement: fluid and rate limits on the IVIG adjunct
    cyclophosphamide_tried: AgentTried | None = None  # cyclophosphamide already on record
    anti_mda5: CodedResult | None = None  # positive anti-MDA5 with interstitial lung disease


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    problems = context.severe_organ
    if not problems:
        return ()
    cyclophosphamide = _cyclophosphamide(context, knowledge)
    facts = [Fact(p.concept, p.display, None, p.onset or p.recorded, p.source) for p in problems]
    used = list(cyclophosphamide.resources) if cyclophosphamide is not None else []
    used += [m.source for m in context.weight.measurements]
    tried = agent_tried(context.history, "cyclophosphamide")
    if tried is not None:
        facts.append(tried.fact)
        used += list(tried.resources)
    mda5 = (
        anti_mda5_positive(context.history) if any(p.concept == "ild" for p in problems) else None
    )
    if mda5 is not None:
        facts.append(Fact(mda5.concept, mda5.value, None, mda5.at, mda5.source))
        used.append(mda5.source)
    return (
        Finding(
            topic=TOPIC,
            rule_id=RULE_ID,
            resources=unique_refs([p.source for p in problems] + used),
            facts=tuple(facts),
            dose=context.ivig_dose,
            safety_checks=context.safety_checks,
            subject=SevereOrganSubject(
                problems,
                cyclophosphamide,
                context.ivig_dose,
                cardiac=any(p.concept in CARDIAC for p in problems),
                cyclophosphamide_tried=tried,
                anti_mda5=mda5,
            ),
        ),
    )


def _cyclophosphamide(
    context: ClinicalContext, knowledge: Knowledge
) -> CyclophosphamideDose | None:
    weight = context.weight
    if not weight.usable or weight.weight is None:
        return None
    height = select_height(context.history.series("height"), weight.weight, knowledge.dosing)
    if height is None:
        return None
    return cyclophosphamide_dose(knowledge.dosing, weight=weight.weight, height=height)


def anti_mda5_positive(history: TherapyHistory) -> CodedResult | None:
    """The latest anti-MDA5 result, when it is positive (a later negative one stands)."""
    results = sorted(
        (r for r in history.coded_results if r.concept == "anti-mda5"), key=lambda r: r.at
    )
    return results[-1] if results and results[-1].value == "positive" else None
