"""BMI-for-age from the RCPCH growth references, and the DDW it enables."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from dosing_helpers import NOW, measurement

from cds_service.card_builder.dose_text import ivig_arithmetic_lines
from cds_service.dosing import DosingPolicy, ivig_course_dose
from cds_service.dosing.growth import bmi_for_age, bmi_inputs_for_dose
from cds_service.knowledge.texts import CardTexts

TEN_YEARS_AGO = date(NOW.year - 10, NOW.month, NOW.day)


def test_obese_ten_year_old_boy_is_above_the_95th_centile(dosing_policy: DosingPolicy) -> None:
    result = bmi_for_age(
        weight=measurement("45"),
        height=measurement("140", concept="height"),
        birth_date=TEN_YEARS_AGO,
        sex="male",
        policy=dosing_policy,
    )
    assert result is not None
    assert result.reference == "uk-who"
    assert result.bmi_kg_m2.quantize(Decimal("0.1")) == Decimal("23.0")
    assert result.centile >= 95
    # the median BMI of a 10-year-old boy is about 16-17 kg/m2 in every reference
    assert Decimal(15) < result.p50_bmi_kg_m2 < Decimal(18)
    assert result.centile == result.centile.quantize(Decimal("0.1"))


def test_lean_child_is_below_the_threshold(dosing_policy: DosingPolicy) -> None:
    centile, p50 = bmi_inputs_for_dose(
        weight=measurement("30"),
        height=measurement("140", concept="height"),
        birth_date=TEN_YEARS_AGO,
        sex="female",
        policy=dosing_policy,
    )
    assert centile is not None and p50 is not None
    assert centile < 95


def test_unknown_sex_or_adult_age_gives_no_centile(dosing_policy: DosingPolicy) -> None:
    common = {"weight": measurement("45"), "height": measurement("140", concept="height")}
    assert (
        bmi_for_age(**common, birth_date=TEN_YEARS_AGO, sex="unknown", policy=dosing_policy) is None
    )
    assert bmi_for_age(**common, birth_date=TEN_YEARS_AGO, sex=None, policy=dosing_policy) is None
    born_long_ago = date(NOW.year - 40, 1, 1)
    assert bmi_for_age(**common, birth_date=born_long_ago, sex="male", policy=dosing_policy) is None
    born_after_weighing = date(NOW.year + 1, 1, 1)
    assert (
        bmi_for_age(**common, birth_date=born_after_weighing, sex="male", policy=dosing_policy)
        is None
    )


def test_cdc_reference_is_a_setting(dosing_policy: DosingPolicy) -> None:
    cdc_policy = dataclasses.replace(
        dosing_policy,
        obesity=dataclasses.replace(dosing_policy.obesity, growth_reference="cdc"),
    )
    result = bmi_for_age(
        weight=measurement("45"),
        height=measurement("140", concept="height"),
        birth_date=TEN_YEARS_AGO,
        sex="male",
        policy=cdc_policy,
    )
    assert result is not None and result.reference == "cdc"


def test_end_to_end_ddw_from_the_growth_reference(dosing_policy: DosingPolicy) -> None:
    weight, height = measurement("45"), measurement("140", concept="height")
    centile, p50 = bmi_inputs_for_dose(
        weight=weight, height=height, birth_date=TEN_YEARS_AGO, sex="male", policy=dosing_policy
    )
    dose = ivig_course_dose(
        weight,
        dosing_policy,
        risk_5_day=False,
        risk_slow_rate=False,
        height=height,
        bmi_centile=centile,
        bmi_p50_kg_m2=p50,
    )
    assert dose.obesity is not None and p50 is not None
    ibw = p50 * Decimal("1.96")
    assert dose.obesity.ibw_kg == ibw
    assert dose.obesity.ddw_kg == ibw + Decimal("0.4") * (45 - ibw)
    assert Decimal(30) < dose.obesity.ddw_kg < Decimal(45)


def test_ddw_basis_doses_on_the_reported_ddw(
    dosing_policy: DosingPolicy, card_texts: CardTexts
) -> None:
    ddw_policy = dataclasses.replace(
        dosing_policy, obesity=dataclasses.replace(dosing_policy.obesity, dose_weight="ddw")
    )
    dose = ivig_course_dose(
        measurement("45"),
        ddw_policy,
        risk_5_day=False,
        risk_slow_rate=False,
        height=measurement("140", concept="height"),
        bmi_centile=Decimal("99.5"),
        bmi_p50_kg_m2=Decimal("16.5"),
    )
    # IBW 32.34 kg; DDW 37.404 -> reported and dosed as 37.4 kg -> 74.8 g -> capped at 70 g
    evidence = dose.evidence()
    assert evidence["dosingWeightBasis"] == "ddw"
    assert Decimal(evidence["ddwKg"]) == Decimal("37.4")
    assert dose.dosing_weight_kg == Decimal("37.4")
    assert Decimal(evidence["uncappedTotalG"]) == Decimal("74.8")
    assert Decimal(evidence["courseTotalG"]) == 70
    assert Decimal(evidence["weightKg"]) == 45
    lines = ivig_arithmetic_lines(dose, card_texts)
    assert "On the actual weight: 2 g/kg × 45 kg = 90 g → capped at 70 g per course." in lines
    assert "2 g/kg × 37.4 kg = 74.8 g → capped at 70 g per course." in lines
