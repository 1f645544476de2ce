"""Dosing: the policy from ``cards/dosing.json`` and pure Decimal arithmetic for IVIG and rituximab.

Nothing here reads the clock or the network; the only I/O is :func:`load_dosing_policy`.
"""

from cds_service.dosing import growth
from cds_service.dosing.growth import BmiForAge, bmi_for_age, bmi_inputs_for_dose
from cds_service.dosing.ivig import IvigDose, ivig_course_dose
from cds_service.dosing.rituximab import RituximabDose, rituximab_dose
from cds_service.dosing.weight import (
    WeightAssessment,
    WeightStatus,
    select_dosing_weight,
    select_height,
)
from cds_service.history.body import mosteller_bsa_m2
from cds_service.knowledge.dosing_policy import DosingPolicy, SourcedValue, load_dosing_policy

__all__ = [
    "BmiForAge",
    "DosingPolicy",
    "IvigDose",
    "RituximabDose",
    "SourcedValue",
    "WeightAssessment",
    "WeightStatus",
    "bmi_for_age",
    "bmi_inputs_for_dose",
    "growth",
    "ivig_course_dose",
    "load_dosing_policy",
    "mosteller_bsa_m2",
    "rituximab_dose",
    "select_dosing_weight",
    "select_height",
]
