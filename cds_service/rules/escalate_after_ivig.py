"""IVIG failing (decision-model.md section 4): enough IVIG courses and the disease still active.

Options in the card's order: rituximab at the paediatric dose (750 mg/m2, max 1 g, x2 one week
apart - a mg figure only with a usable weight and a height for the BSA), ciclosporin;
cyclophosphamide only for severe organ involvement. The adult 1000 mg x 2 / 14 days regimen is
named only to say it is not a paediatric dose.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.dosing import (
    RituximabDose,
    rituximab_dose,
    select_dosing_weight,
    select_height,
)
from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules import refractory
from cds_service.rules.findings import Fact, Finding, Indicator, unique_refs

RULE_ID = "escalate_after_ivig"
ORGAN_CONCEPTS = {
    "ild": "interstitial lung disease",
    "gi-vasculopathy": "GI vasculitis",
    "skin-ulceration": "skin ulceration",
    "myocarditis": "myocarditis",
}


def evaluate(history: TherapyHistory, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    disease = refractory.assess(history, knowledge, now)
    status = refractory.ivig_status(history, knowledge, now, disease.active)
    if not status.failing:
        return ()
    dose = _rituximab(history, knowledge, now)
    organ = [
        (label, p)
        for concept, label in ORGAN_CONCEPTS.items()
        for p in history.active_problems(concept)
    ]
    organ_text = (
        " - present here: " + ", ".join(sorted({label for label, _ in organ})) if organ else ""
    )
    if dose is not None:
        rtx_text = f": **{dose.evidence()['perInfusionMg']} mg per infusion** for this patient"
    else:
        rtx_text = " (no mg figure: a current weight and a height are needed for the BSA)"
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
    used = [m.source for m in (dose.weight, dose.height)] if dose is not None else []
    return (
        Finding(
            topic="escalate-after-ivig",
            indicator=Indicator.WARNING,
            rule_id=RULE_ID,
            resources=unique_refs(
                list(disease.resources)
                + list(status.resources)
                + used
                + [p.source for _, p in organ]
            ),
            facts=tuple(facts),
            thresholds=disease.thresholds + status.thresholds,
            dose=dose,
            dose_evidence=dose.evidence() if dose is not None else None,
            texts={
                "courses": str(len(status.courses)),
                "rituximab_dose": rtx_text,
                "organ_involvement": organ_text,
            },
        ),
    )


def _rituximab(
    history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> RituximabDose | None:
    """The paediatric dose from a usable weight and a height near it; None without either."""
    weight = select_dosing_weight(history.series("weight"), now, knowledge.dosing)
    if not weight.usable or weight.weight is None:
        return None
    height = select_height(history.series("height"), weight.weight, knowledge.dosing)
    if height is None:
        return None
    return rituximab_dose(knowledge.dosing, weight=weight.weight, height=height)
