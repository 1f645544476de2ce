"""The IVIG course this patient would get now: the one dose both ``ivig-start`` and the safety
cards quote (so a fluid-load card never states a volume the dose card does not). Which fired
safety checks make it the 5-day split or cap its rate is data (``cards/decision.json``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from cds_service.dosing import IvigDose, WeightAssessment, ivig_course_dose, select_dosing_weight
from cds_service.dosing.weight import select_height
from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.obesity import bmi_inputs


def course_dose(
    history: TherapyHistory, knowledge: Knowledge, now: datetime, risk_codes: Collection[str]
) -> tuple[WeightAssessment, IvigDose | None]:
    """The weight assessment and, when the weight is usable, the course for these risks."""
    weight = select_dosing_weight(history.series("weight"), now, knowledge.dosing)
    if not weight.usable or weight.weight is None:
        return weight, None
    height = select_height(history.series("height"), weight.weight, knowledge.dosing)
    centile, bmi_p50 = bmi_inputs(history, weight.weight, height, knowledge)
    dose = ivig_course_dose(
        weight.weight,
        knowledge.dosing,
        risk_5_day=bool(knowledge.decision.five_day_risks.intersection(risk_codes)),
        risk_slow_rate=bool(knowledge.decision.slow_rate_risks.intersection(risk_codes)),
        height=height,
        bmi_centile=centile,
        bmi_p50_kg_m2=bmi_p50,
    )
    return weight, dose
