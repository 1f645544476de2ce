"""Property tests: unit conversion round trips and monotonicity; Mosteller BSA."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cds_service.history.body import mosteller_bsa
from cds_service.history.units import FACTORS, convert

positive = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(100000), places=3)
weights = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(250), places=2)
heights = st.decimals(min_value=Decimal(30), max_value=Decimal(220), places=1)


@given(positive, st.sampled_from(sorted(FACTORS["weight"])))
def test_weight_round_trip(value: Decimal, unit: str) -> None:
    kg = convert("weight", value, unit, None)
    assert kg is not None
    assert kg / FACTORS["weight"][unit] == value


@given(positive, positive, st.sampled_from(["kg", "g", "[lb_av]", "cm", "m", "[in_i]"]))
def test_conversion_is_monotonic(a: Decimal, b: Decimal, unit: str) -> None:
    concept = "height" if unit in ("cm", "m", "[in_i]") else "weight"
    low, high = sorted((a, b))
    assert convert(concept, low, unit, None) <= convert(concept, high, unit, None)  # type: ignore[operator]


@given(positive)
def test_pounds_and_grams_agree_with_kilograms(value: Decimal) -> None:
    grams = convert("weight", value * 1000, "g", None)
    assert grams == convert("weight", value, "kg", None)
    assert convert("weight", value, "[lb_av]", None) == value * Decimal("0.45359237")


@given(st.text(max_size=12).filter(lambda u: u.strip() not in FACTORS["weight"]))
def test_unknown_units_are_never_converted(unit: str) -> None:
    assert convert("weight", Decimal(10), unit, None) is None


@given(weights, heights)
def test_mosteller_matches_the_formula_to_the_rounding(w: Decimal, h: Decimal) -> None:
    bsa = mosteller_bsa(w, h)
    exact = (w * h / 3600).sqrt()
    assert abs(bsa - exact) <= Decimal("0.005")
    assert bsa == bsa.quantize(Decimal("0.01"))


@given(weights, weights, heights)
def test_mosteller_grows_with_weight(a: Decimal, b: Decimal, h: Decimal) -> None:
    low, high = sorted((a, b))
    assert mosteller_bsa(low, h) <= mosteller_bsa(high, h)


def test_mosteller_refuses_non_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        mosteller_bsa(Decimal(0), Decimal(120))
