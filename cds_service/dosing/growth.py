"""BMI-for-age centiles from a growth reference (RCPCH ``rcpchgrowth``), IBW and DDW.

Used for the IVIG obesity adjustment [NBA-BloodSTAR, DFTB-IBW]: at or above the BMI-for-age
threshold centile, IBW = BMI at the 50th centile for age and sex × height (m)², and the
dose-determining weight DDW = IBW + 0.4 × (actual − IBW). The reference (UK-WHO by default, CDC
as an option) is a setting in ``cards/dosing.json``; no centile table is typed in by hand.

The library works in binary floats; its results enter here as decimal strings and the centile
is rounded to the policy's quantum (0.1) before any comparison, so the centile shown on the card
is the one compared with the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from statistics import NormalDist

import rcpchgrowth

from cds_service.history.model import Measurement
from cds_service.knowledge.dosing_policy import DosingPolicy

REFERENCES = {"uk-who": rcpchgrowth.UK_WHO, "cdc": rcpchgrowth.CDC}
SEXES = frozenset({"male", "female"})  # the growth references have charts for these only
# rcpchgrowth signals ages or values outside its charts with these
_REFERENCE_ERRORS = (ValueError, LookupError, TypeError, ArithmeticError)


@dataclass(frozen=True)
class BmiForAge:
    bmi_kg_m2: Decimal  # exact: weight / height²
    sds: Decimal
    centile: Decimal  # rounded to the policy's centile quantum
    p50_bmi_kg_m2: Decimal  # BMI at the 50th centile for this age and sex
    age_years: Decimal  # decimal age at the weight's date
    reference: str  # "uk-who" | "cdc"


def bmi_kg_m2(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """BMI = weight (kg) / height (m)².

    >>> bmi_kg_m2(Decimal(45), Decimal(140)).quantize(Decimal("0.01"))
    Decimal('22.96')
    """
    height_m = height_cm / 100
    return weight_kg / (height_m * height_m)


def ideal_body_weight_kg(p50_bmi_kg_m2: Decimal, height_cm: Decimal) -> Decimal:
    """IBW by the BMI-50th-centile method: ``p50 BMI × height (m)²``."""
    height_m = height_cm / 100
    return p50_bmi_kg_m2 * height_m * height_m


def dose_determining_weight_kg(
    actual_kg: Decimal, ibw_kg: Decimal, excess_fraction: Decimal
) -> Decimal:
    """DDW = IBW + fraction × (actual − IBW).

    >>> dose_determining_weight_kg(Decimal(50), Decimal(30), Decimal("0.4"))
    Decimal('38.0')
    """
    return ibw_kg + excess_fraction * (actual_kg - ibw_kg)


def bmi_for_age(
    *,
    weight: Measurement,
    height: Measurement,
    birth_date: date,
    sex: str | None,
    policy: DosingPolicy,
) -> BmiForAge | None:
    """BMI-for-age at the weight's date, or None when the reference cannot give one.

    None when: sex is not male/female, the age is outside the reference's charts, or the
    values are outside what the library accepts.
    """
    if sex not in SEXES or weight.value <= 0 or height.value <= 0:
        return None
    reference = REFERENCES[policy.obesity.growth_reference]
    observed_on = weight.at.date()
    if observed_on <= birth_date:
        return None
    bmi = bmi_kg_m2(weight.value, height.value)
    try:
        age = rcpchgrowth.chronological_decimal_age(birth_date, observed_on)
        sds = rcpchgrowth.sds_for_measurement(reference, age, rcpchgrowth.BMI, float(bmi), sex)
        centile = rcpchgrowth.centile(sds)
        ibw_sds = NormalDist().inv_cdf(float(policy.obesity.ibw_bmi_centile.value) / 100)
        p50 = rcpchgrowth.measurement_from_sds(reference, ibw_sds, rcpchgrowth.BMI, sex, age)
    except _REFERENCE_ERRORS:
        return None
    if p50 is None or centile is None:
        return None
    rounding = policy.rounding
    return BmiForAge(
        bmi_kg_m2=bmi,
        sds=Decimal(repr(float(sds))),
        centile=rounding.round(Decimal(repr(float(centile))), rounding.centile),
        p50_bmi_kg_m2=Decimal(repr(float(p50))),
        age_years=Decimal(repr(float(age))),
        reference=policy.obesity.growth_reference,
    )


def bmi_inputs_for_dose(
    *,
    weight: Measurement,
    height: Measurement,
    birth_date: date,
    sex: str | None,
    policy: DosingPolicy,
) -> tuple[Decimal | None, Decimal | None]:
    """(BMI centile, BMI at the 50th centile) for :func:`ivig_course_dose`, or (None, None)."""
    result = bmi_for_age(
        weight=weight, height=height, birth_date=birth_date, sex=sex, policy=policy
    )
    if result is None:
        return None, None
    return result.centile, result.p50_bmi_kg_m2
