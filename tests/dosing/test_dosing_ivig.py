"""IVIG course dose: the worked examples of docs/clinical/dosing.md, the cap boundary, splits,
rates, DDW."""

from __future__ import annotations

from decimal import Decimal

import pytest
from dosing_helpers import measurement

from cds_service.card_builder.dose_text import ivig_arithmetic_lines
from cds_service.dosing import DosingPolicy, ivig_course_dose
from cds_service.knowledge.texts import CardTexts


def dose_for(policy: DosingPolicy, kg: str, **risks: bool):  # type: ignore[no-untyped-def]
    return ivig_course_dose(
        measurement(kg),
        policy,
        risk_5_day=risks.get("risk_5_day", False),
        risk_slow_rate=risks.get("risk_slow_rate", False),
    )


def test_26_kg_worked_example(dosing_policy: DosingPolicy) -> None:
    dose = dose_for(dosing_policy, "26")
    evidence = dose.evidence()
    assert Decimal(evidence["uncappedTotalG"]) == 52
    assert Decimal(evidence["courseTotalG"]) == 52
    assert evidence["capped"] is False
    assert evidence["days"] == 2
    assert Decimal(evidence["perDayG"]) == 26
    assert Decimal(evidence["fiveDayPerDayG"]) == Decimal("10.4")
    assert Decimal(evidence["volumeMl"]) == 520
    assert Decimal(evidence["startRateMlPerKgMin"]) == Decimal("0.01")
    assert Decimal(evidence["maxRateMlPerKgMin"]) == Decimal("0.04")
    assert evidence["dosingWeightBasis"] == "actual"
    assert evidence["weightObservation"] == "Observation/w-1"
    assert "ddwKg" not in evidence
    assert [ref.reference for ref in dose.resources] == ["Observation/w-1"]


def test_40_kg_is_capped_at_70_g(dosing_policy: DosingPolicy) -> None:
    evidence = dose_for(dosing_policy, "40").evidence()
    assert Decimal(evidence["uncappedTotalG"]) == 80
    assert evidence["capped"] is True
    assert Decimal(evidence["courseTotalG"]) == 70
    assert Decimal(evidence["perDayG"]) == 35
    assert Decimal(evidence["volumeMl"]) == 700


def test_35_kg_is_exactly_the_cap_and_not_capped(dosing_policy: DosingPolicy) -> None:
    exact = dose_for(dosing_policy, "35")
    assert exact.course_total_g == 70
    assert exact.capped is False
    just_over = dose_for(dosing_policy, "35.1")
    assert just_over.capped is True
    assert just_over.course_total_g == 70
    assert Decimal(just_over.evidence()["uncappedTotalG"]) == Decimal("70.2")


def test_renal_risk_gives_5_day_split_and_slow_rate(
    dosing_policy: DosingPolicy, card_texts: CardTexts
) -> None:
    dose = dose_for(dosing_policy, "26", risk_5_day=True, risk_slow_rate=True)
    evidence = dose.evidence()
    assert evidence["days"] == 5
    assert Decimal(evidence["perDayG"]) == Decimal("10.4")
    assert Decimal(evidence["maxRateMlPerKgMin"]) == Decimal("0.03")
    assert any("5-day split because" in line for line in ivig_arithmetic_lines(dose, card_texts))
    assert (
        "52 g ÷ 5 days = 10.4 g/day; 5-day split because of a renal, thrombosis or fluid-load risk."
        in ivig_arithmetic_lines(dose, card_texts)
    )


def test_fractional_weight_rounds_grams_half_up_once(dosing_policy: DosingPolicy) -> None:
    # 2 x 26.35 = 52.7 g; /5 = 10.54 -> 10.5 g/day; the total is not re-derived from 10.5
    dose = dose_for(dosing_policy, "26.35", risk_5_day=True)
    evidence = dose.evidence()
    assert Decimal(evidence["courseTotalG"]) == Decimal("52.7")
    assert Decimal(evidence["perDayG"]) == Decimal("10.5")
    assert dose.per_day_g * 5 == dose.course_total_g
    # 2 x 13.0125 = 26.025 -> 26.0 g at 0.1 g; 26.025/2 = 13.0125 -> 13.0
    dose = dose_for(dosing_policy, "13.0125")
    assert Decimal(dose.evidence()["courseTotalG"]) == Decimal("26.0")


def test_arithmetic_lines_state_the_product_and_the_cap(
    dosing_policy: DosingPolicy, card_texts: CardTexts
) -> None:
    lines = ivig_arithmetic_lines(dose_for(dosing_policy, "26"), card_texts)
    assert "2 g/kg × 26 kg = 52 g per course (cap 70 g not reached)." in lines
    assert "52 g ÷ 2 days = 26 g/day." in lines
    assert any("520 mL per course" in line for line in lines)
    capped = ivig_arithmetic_lines(dose_for(dosing_policy, "40"), card_texts)
    assert "2 g/kg × 40 kg = 80 g → capped at 70 g per course." in capped


def test_rate_in_ml_per_hour_uses_the_dosing_weight(dosing_policy: DosingPolicy) -> None:
    dose = dose_for(dosing_policy, "26")
    # 0.01 mL/kg/min x 26 kg x 60 min/h = 15.6 mL/h; 0.04 -> 62.4 mL/h
    assert dose.ml_per_hour(Decimal("0.01")) == Decimal("15.6")
    assert dose.ml_per_hour(Decimal("0.04")) == Decimal("62.4")


def test_obese_child_shows_ddw_but_doses_on_actual_weight_by_default(
    dosing_policy: DosingPolicy,
    card_texts: CardTexts,
) -> None:
    height = measurement("140", concept="height", resource_id="h-1")
    dose = ivig_course_dose(
        measurement("30"),
        dosing_policy,
        risk_5_day=False,
        risk_slow_rate=False,
        height=height,
        bmi_centile=Decimal("98.1"),
        bmi_p50_kg_m2=Decimal("16.5"),
    )
    # IBW = 16.5 x 1.4^2 = 32.34 kg > 30 kg: no excess, so no DDW
    assert dose.obesity is None
    dose = ivig_course_dose(
        measurement("45"),
        dosing_policy,
        risk_5_day=False,
        risk_slow_rate=False,
        height=height,
        bmi_centile=Decimal("99.5"),
        bmi_p50_kg_m2=Decimal("16.5"),
    )
    # IBW 32.34; DDW = 32.34 + 0.4 x (45 - 32.34) = 37.404 -> 37.4 kg
    evidence = dose.evidence()
    assert Decimal(evidence["ddwKg"]) == Decimal("37.4")
    assert evidence["dosingWeightBasis"] == "actual"
    assert dose.capped is True
    assert any(
        "DDW = 32.3 + 0.4 × (45 − 32.3)" in line for line in ivig_arithmetic_lines(dose, card_texts)
    )
    assert [ref.reference for ref in dose.resources] == ["Observation/w-1", "Observation/h-1"]
    assert (
        "Alternative used by many centres: 2 g/kg × 37.4 kg DDW = 74.8 g → capped at 70 g "
        "per course." in ivig_arithmetic_lines(dose, card_texts)
    )


def test_below_the_centile_threshold_no_ddw(dosing_policy: DosingPolicy) -> None:
    dose = ivig_course_dose(
        measurement("45"),
        dosing_policy,
        risk_5_day=False,
        risk_slow_rate=False,
        height=measurement("140", concept="height"),
        bmi_centile=Decimal("94.9"),
        bmi_p50_kg_m2=Decimal("16.5"),
    )
    assert dose.obesity is None
    assert "ddwKg" not in dose.evidence()


def test_vial_rounding_offered_within_ten_percent(dosing_policy: DosingPolicy) -> None:
    dose = dose_for(dosing_policy, "26")
    assert dose.vial_rounding is not None
    assert dose.vial_rounding.rounded_g == 25
    assert Decimal(dose.evidence()["roundedPerDayG"]) == 25


def test_an_unassessed_implausible_weight_is_refused(dosing_policy: DosingPolicy) -> None:
    for kg in ("0", "1.99", "150.1", "-3"):
        with pytest.raises(ValueError, match="not dosed"):
            dose_for(dosing_policy, kg)
