"""BMI-for-age inputs for the IVIG obesity adjustment (dosing.md "Obesity")."""

from __future__ import annotations

from decimal import Decimal

from cds_service.history.model import Measurement, TherapyHistory
from cds_service.knowledge import Knowledge


def bmi_inputs(
    history: TherapyHistory,
    weight: Measurement,
    height: Measurement | None,
    knowledge: Knowledge,
) -> tuple[Decimal | None, Decimal | None]:
    """(BMI centile for age and sex, BMI at the 50th centile), or (None, None)."""
    patient = history.patient
    if height is None or patient.birth_date is None or patient.sex not in {"male", "female"}:
        return None, None
    try:
        from cds_service.dosing import growth
    except ImportError:  # the growth reference module has not landed: no DDW shown
        return None, None
    return growth.bmi_inputs_for_dose(
        weight=weight,
        height=height,
        birth_date=patient.birth_date,
        sex=patient.sex,
        policy=knowledge.dosing,
    )
