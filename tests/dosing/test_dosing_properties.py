"""Properties that must hold for every weight and height, not only the worked examples."""

from __future__ import annotations

from decimal import Decimal

from dosing_helpers import NOW, measurement, policy
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.dosing import (
    ivig_course_dose,
    mosteller_bsa_m2,
    rituximab_dose,
    select_dosing_weight,
)
from cds_service.dosing.vials import achievable_amounts, round_to_vials

POLICY = policy()
CAP_G = POLICY.ivig.cap_g_per_course.value
GRAM_QUANTUM = POLICY.rounding.grams

weights = st.decimals(min_value=2, max_value=150, places=2, allow_nan=False, allow_infinity=False)
heights = st.decimals(min_value=45, max_value=200, places=1, allow_nan=False, allow_infinity=False)
risks = st.booleans()


@given(weight_kg=weights, risk_5_day=risks, risk_slow_rate=risks)
def test_cap_is_never_exceeded(weight_kg: Decimal, risk_5_day: bool, risk_slow_rate: bool) -> None:
    dose = ivig_course_dose(
        measurement(weight_kg), POLICY, risk_5_day=risk_5_day, risk_slow_rate=risk_slow_rate
    )
    evidence = dose.evidence()
    assert dose.course_total_g <= CAP_G
    assert Decimal(evidence["courseTotalG"]) <= CAP_G
    assert dose.capped == (2 * weight_kg > CAP_G)
    assert Decimal(evidence["maxRateMlPerKgMin"]) <= Decimal("0.04")
    if risk_slow_rate:
        assert Decimal(evidence["maxRateMlPerKgMin"]) == Decimal("0.03")


@given(lighter=weights, heavier=weights)
def test_course_total_never_falls_as_weight_rises(lighter: Decimal, heavier: Decimal) -> None:
    lighter, heavier = sorted((lighter, heavier))
    light = ivig_course_dose(measurement(lighter), POLICY, risk_5_day=False, risk_slow_rate=False)
    heavy = ivig_course_dose(measurement(heavier), POLICY, risk_5_day=False, risk_slow_rate=False)
    assert light.course_total_g <= heavy.course_total_g
    assert light.course_total_g_rounded <= heavy.course_total_g_rounded


@given(weight_kg=weights, risk_5_day=risks)
def test_daily_doses_add_up_to_the_course(weight_kg: Decimal, risk_5_day: bool) -> None:
    dose = ivig_course_dose(
        measurement(weight_kg), POLICY, risk_5_day=risk_5_day, risk_slow_rate=False
    )
    assert dose.per_day_g * dose.days == dose.course_total_g
    assert dose.five_day_per_day_g * 5 == dose.course_total_g
    # after rounding each day's dose, the course is off by at most half a quantum per day
    given_g = dose.per_day_g_rounded * dose.days
    assert abs(given_g - dose.course_total_g) <= dose.days * GRAM_QUANTUM / 2
    assert dose.volume_ml == dose.course_total_g * 10


@given(weight_kg=weights, five_days=st.booleans())
def test_vial_rounding_never_takes_a_course_past_its_cap(
    weight_kg: Decimal, five_days: bool
) -> None:
    dose = ivig_course_dose(
        measurement(weight_kg), POLICY, risk_5_day=five_days, risk_slow_rate=False
    )
    vials = dose.vial_rounding
    if vials is not None:
        assert vials.rounded_g * dose.days <= dose.cap_g


@given(weight_kg=weights)
def test_vial_rounding_is_never_more_than_ten_percent_off(weight_kg: Decimal) -> None:
    dose = ivig_course_dose(measurement(weight_kg), POLICY, risk_5_day=False, risk_slow_rate=False)
    vials = dose.vial_rounding
    if vials is None:
        return
    assert abs(vials.rounded_g - dose.per_day_g) <= dose.per_day_g * Decimal("0.10")
    sizes = POLICY.ivig.vial_rounding.vial_sizes_g
    assert vials.rounded_g in achievable_amounts(sizes, vials.rounded_g)


@given(
    exact_g=st.decimals(min_value="0.1", max_value=80, places=2),
    sizes=st.lists(
        st.decimals(min_value="0.5", max_value=40, places=1), min_size=1, max_size=4, unique=True
    ),
)
def test_round_to_vials_respects_the_limit_for_any_vial_sizes(
    exact_g: Decimal, sizes: list[Decimal]
) -> None:
    result = round_to_vials(exact_g, sorted(sizes), Decimal("0.10"))
    if result is not None:
        assert abs(result.rounded_g - exact_g) <= exact_g * Decimal("0.10")
        assert result.deviation_fraction == (result.rounded_g - exact_g) / exact_g


@given(
    weight_kg=weights, height_cm=heights, more=st.decimals(min_value="0.1", max_value=20, places=1)
)
def test_bsa_rises_with_weight_and_height(
    weight_kg: Decimal, height_cm: Decimal, more: Decimal
) -> None:
    bsa = mosteller_bsa_m2(weight_kg, height_cm)
    assert mosteller_bsa_m2(weight_kg + more, height_cm) > bsa
    assert mosteller_bsa_m2(weight_kg, height_cm + more) > bsa
    assert abs(bsa * bsa - height_cm * weight_kg / 3600) < Decimal("1e-20")


@given(weight_kg=weights, height_cm=heights)
def test_rituximab_never_exceeds_the_cap_or_uses_the_adult_interval(
    weight_kg: Decimal, height_cm: Decimal
) -> None:
    dose = rituximab_dose(
        POLICY, weight=measurement(weight_kg), height=measurement(height_cm, concept="height")
    )
    assert dose is not None
    assert dose.per_infusion_mg <= 1000
    assert dose.interval_days == 7
    assert dose.infusions == 2
    assert dose.per_infusion_mg == min(dose.bsa_m2 * 750, Decimal(1000))


@settings(max_examples=200)
@given(
    value=st.decimals(min_value="0.5", max_value=300, places=2),
    days_ago=st.integers(min_value=-3, max_value=60),
)
def test_a_usable_weight_is_always_plausible_and_recent(value: Decimal, days_ago: int) -> None:
    result = select_dosing_weight([measurement(value, days_ago=days_ago)], NOW, POLICY)
    if result.usable:
        assert 2 <= value <= 150
        assert 0 <= days_ago <= 30
    else:
        assert not (2 <= value <= 150 and 0 <= days_ago <= 30)


@given(
    weight_kg=weights,
    height_cm=heights,
    p50=st.decimals(min_value=12, max_value=24, places=2),
)
def test_ddw_lies_between_ibw_and_the_actual_weight(
    weight_kg: Decimal, height_cm: Decimal, p50: Decimal
) -> None:
    dose = ivig_course_dose(
        measurement(weight_kg),
        POLICY,
        risk_5_day=False,
        risk_slow_rate=False,
        height=measurement(height_cm, concept="height"),
        bmi_centile=Decimal(99),
        bmi_p50_kg_m2=p50,
    )
    if dose.obesity is None:  # actual weight not above IBW: nothing to adjust
        assert weight_kg <= p50 * (height_cm / 100) ** 2
        return
    assert dose.obesity.ibw_kg < dose.obesity.ddw_kg < weight_kg
    assert dose.dosing_weight_basis == "actual"  # the shipped policy doses on actual weight
    assert dose.dosing_weight_kg == weight_kg
