"""BMI-for-age inputs for the IVIG obesity adjustment (docs/clinical/dosing.md "Obesity")."""

from __future__ import annotations

from decimal import Decimal

from cds_service.dosing.growth import bmi_inputs_for_dose
from cds_service.history.model import Measurement, TherapyHistory
from cds_service.knowledge.loader import Knowledge


def bmi_inputs(
    history: TherapyHistory,
    weight: Measurement,
    height: Measurement | None,
    knowledge: Knowledge,
) -> tuple[Decimal | None, Decimal | None]:
    """(BMI centile for age and sex, BMI at the 50th centile), or (None, None).

    None without a height near the weight, a birth date, or a male/female sex: the reference
    charts need all three, and the dose then uses the actual weight with no DDW shown.
    """
    patient = history.patient
    if height is None or patient.birth_date is None:
        return None, None
    return bmi_inputs_for_dose(
        weight=weight,
        height=height,
        birth_date=patient.birth_date,
        sex=patient.sex,
        policy=knowledge.dosing,
    )
