"""Dosing-weight selection: recency, plausibility, change, missing; height pairing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from dosing_helpers import NOW, measurement

from cds_service.dosing import DosingPolicy, WeightStatus, select_dosing_weight, select_height


def test_no_weight_is_missing(dosing_policy: DosingPolicy) -> None:
    result = select_dosing_weight([], NOW, dosing_policy)
    assert result.status is WeightStatus.MISSING
    assert result.weight is None
    assert not result.usable


@pytest.mark.parametrize(("days_ago", "usable"), [(0, True), (30, True), (31, False)])
def test_recency_boundary_30_days(dosing_policy: DosingPolicy, days_ago: int, usable: bool) -> None:
    result = select_dosing_weight([measurement("26", days_ago=days_ago)], NOW, dosing_policy)
    assert result.usable is usable
    assert result.age_days == days_ago
    if not usable:
        assert result.status is WeightStatus.STALE
        assert result.age_days == 31 and result.weight is not None


def test_age_counts_calendar_days_in_nows_zone(dosing_policy: DosingPolicy) -> None:
    # 30 days and 23 hours before 09:00 NZ is the previous calendar day there: 31 days -> stale
    weight = measurement("26", days_ago=30 + 23 / 24)
    result = select_dosing_weight([weight], NOW, dosing_policy)
    assert result.age_days == 31
    assert result.status is WeightStatus.STALE
    # the same instant seen from a UTC clock at the same instant: still the same elapsed time
    utc_now = NOW.astimezone(UTC)
    assert select_dosing_weight([weight], utc_now, dosing_policy).age_days in {30, 31}


@pytest.mark.parametrize(
    ("value", "usable"),
    [("1.99", False), ("2", True), ("150", True), ("150.01", False), ("0", False)],
)
def test_plausible_range_2_to_150_kg(dosing_policy: DosingPolicy, value: str, usable: bool) -> None:
    result = select_dosing_weight([measurement(value)], NOW, dosing_policy)
    assert result.usable is usable
    if not usable:
        assert result.status is WeightStatus.IMPLAUSIBLE
        assert result.weight is not None and result.weight.value == Decimal(value)


def test_change_of_exactly_20_percent_is_accepted(dosing_policy: DosingPolicy) -> None:
    weights = [measurement("25", days_ago=20, resource_id="w-old"), measurement("30", days_ago=2)]
    assert select_dosing_weight(weights, NOW, dosing_policy).usable


def test_change_over_20_percent_within_30_days_needs_confirmation(
    dosing_policy: DosingPolicy,
) -> None:
    old = measurement("25", days_ago=20, resource_id="w-old")
    new = measurement("30.1", days_ago=2, resource_id="w-new")
    result = select_dosing_weight([new, old], NOW, dosing_policy)
    assert result.status is WeightStatus.CHANGED
    assert result.weight == new
    assert result.compared_with == old
    assert result.change_fraction == Decimal("5.1") / 25
    assert {m.source.reference for m in result.measurements} == {
        "Observation/w-old",
        "Observation/w-new",
    }


def test_big_change_over_a_longer_span_is_growth_not_error(dosing_policy: DosingPolicy) -> None:
    weights = [measurement("20", days_ago=120), measurement("26", days_ago=2)]
    assert select_dosing_weight(weights, NOW, dosing_policy).usable


def test_entered_in_error_weight_is_ignored(dosing_policy: DosingPolicy) -> None:
    weights = [
        measurement("26", days_ago=5),
        measurement("62", days_ago=1, status="entered-in-error"),
    ]
    result = select_dosing_weight(weights, NOW, dosing_policy)
    assert result.usable
    assert result.weight is not None and result.weight.value == 26


def test_future_weight_is_not_used(dosing_policy: DosingPolicy) -> None:
    result = select_dosing_weight([measurement("26", days_ago=-2)], NOW, dosing_policy)
    assert result.status is WeightStatus.FUTURE


def test_naive_now_is_refused(dosing_policy: DosingPolicy) -> None:
    with pytest.raises(ValueError):
        select_dosing_weight([], datetime(2026, 3, 20), dosing_policy)


def test_height_within_90_days_of_weight(dosing_policy: DosingPolicy) -> None:
    weight = measurement("30", days_ago=5)
    far = measurement("120", concept="height", days_ago=96, resource_id="h-far")
    near = measurement("130", concept="height", days_ago=95, resource_id="h-near")
    assert select_height([far], weight, dosing_policy) is None
    assert select_height([far, near], weight, dosing_policy) == near
    assert NOW - near.at - (NOW - weight.at) == timedelta(days=90)


def test_a_few_minutes_of_clock_skew_is_tolerated(dosing_policy: DosingPolicy) -> None:
    skewed = measurement("26", days_ago=-4 / (24 * 60))  # 4 minutes "in the future"
    result = select_dosing_weight([skewed], NOW, dosing_policy)
    assert result.usable
    assert result.age_days == 0
    too_far = measurement("26", days_ago=-6 / (24 * 60))
    assert select_dosing_weight([too_far], NOW, dosing_policy).status is WeightStatus.FUTURE
