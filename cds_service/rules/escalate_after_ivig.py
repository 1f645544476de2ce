"""IVIG failing (docs/clinical/decision-model.md §4): enough IVIG courses and the disease still
active.

Options in the card's order: rituximab (a mg figure only with a usable weight and a height for
the BSA), ciclosporin; cyclophosphamide only for severe organ involvement (decision.json lists the
organ problems). A child gets the BSA dose of the RIM protocol, with UK practice's 14-day interval
named as the alternative; an adult (18 or over) gets the adult regimen's wording. The card drafts
the checks before rituximab (hepatitis B serology, baseline IgG: order set rituximab-baseline).
An option already tried says so, with what the record holds (:mod:`cds_service.rules.tried`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.dosing import RituximabDose, rituximab_dose, select_height
from cds_service.history.model import DoseStatus, Problem
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, unique_refs
from cds_service.rules.refractory import DiseaseAssessment
from cds_service.rules.scope import ADULT_AGE_YEARS
from cds_service.rules.tried import AgentTried, agents_tried

RULE_ID = "escalate_after_ivig"
# the note on hepatitis B serology and IgG before rituximab, with its draft orders
BEFORE_RITUXIMAB = "beforeRituximab"
RITUXIMAB_ORDERS = "rituximab-baseline"


@dataclass(frozen=True)
class EscalateSubject:
    courses: int
    organ_problems: tuple[Problem, ...]  # active severe organ involvement
    disease: DiseaseAssessment | None = None  # the signs of activity the card names
    adult: bool = False  # 18 or over: the adult rituximab regimen is stated, not the paediatric
    tried: tuple[AgentTried, ...] = ()  # the options' agents already on record


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    disease, status = context.disease, context.ivig
    if not status.failing:
        return ()
    dose = _rituximab(context, knowledge)
    organ = tuple(
        p
        for concept in knowledge.decision.organ_involvement
        for p in context.history.active_problems(concept)
    )
    facts = [Fact("ivig_courses", str(len(status.courses)), "courses")]
    facts += [
        Fact(
            f"ivig_course_{i + 1}_start",
            c.start.isoformat(),
            None,
            c.start,
            c.infusions[0].source if c.infusions else None,
        )
        for i, c in enumerate(status.courses)
    ]
    facts += list(disease.facts)
    tried = agents_tried(context.history)
    facts += [t.fact for t in tried]
    used = [m.source for m in (dose.weight, dose.height)] if dose is not None else []
    used += [ref for t in tried for ref in t.resources]
    return (
        Finding(
            topic="escalate-after-ivig",
            rule_id=RULE_ID,
            resources=unique_refs(
                list(disease.resources) + list(status.resources) + used + [p.source for p in organ]
            ),
            facts=tuple(facts),
            thresholds=disease.thresholds + status.thresholds,
            dose=dose,
            subject=EscalateSubject(
                len(status.courses), organ, disease, adult=_adult(context), tried=tried
            ),
            suggest=(RITUXIMAB_ORDERS,),
            note_keys=(
                BEFORE_RITUXIMAB,
                *(("rituximabGiven",) if _rituximab_given(context) else ()),
            ),
        ),
    )


def _rituximab_given(context: ClinicalContext) -> bool:
    """Rituximab given (or reported) before: the card speaks about it rather than offering it as
    if new (docs/clinical/decision-model.md §4)."""
    given = (DoseStatus.GIVEN, DoseStatus.REPORTED)
    return any(e.status in given for e in context.history.doses("rituximab"))


def _adult(context: ClinicalContext) -> bool:
    age = context.history.patient.age_years
    return age is not None and age >= ADULT_AGE_YEARS


def _rituximab(context: ClinicalContext, knowledge: Knowledge) -> RituximabDose | None:
    """The paediatric dose from a usable weight and a height near it; None without either."""
    weight = context.weight
    if not weight.usable or weight.weight is None:
        return None
    height = select_height(context.history.series("height"), weight.weight, knowledge.dosing)
    if height is None:
        return None
    return rituximab_dose(knowledge.dosing, weight=weight.weight, height=height)
