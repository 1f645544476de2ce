"""Weight and BSA near a date: the basis of per-kg and per-m2 doses (Mosteller BSA)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from cds_service.history.model import BodySurfaceArea, Measurement
from cds_service.history.policy import HistoryPolicy

BSA_QUANTUM = Decimal("0.01")  # m2, the precision BSA is charted and dosed with


def mosteller_bsa(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """sqrt(height cm x weight kg / 3600), rounded half-up to 0.01 m2 [Mosteller1987].

    >>> mosteller_bsa(Decimal("26"), Decimal("132"))
    Decimal('0.98')
    """
    if weight_kg <= 0 or height_cm <= 0:
        raise ValueError("weight and height must be positive")
    return (weight_kg * height_cm / Decimal(3600)).sqrt().quantize(BSA_QUANTUM, ROUND_HALF_UP)


def nearest(
    series: Sequence[Measurement], at: datetime, before: timedelta, after: timedelta
) -> Measurement | None:
    """The measurement closest to `at` within [at - before, at + after]; the earlier on a tie."""
    best: Measurement | None = None
    for measurement in series:
        gap = measurement.at - at
        if -before <= gap <= after and (best is None or abs(gap) < abs(best.at - at)):
            best = measurement
    return best


class BodySize:
    """Looks up the weight and BSA in force at a dose's date."""

    def __init__(
        self, weights: Sequence[Measurement], heights: Sequence[Measurement], policy: HistoryPolicy
    ):
        self._weights = tuple(weights)
        self._heights = tuple(heights)
        self._policy = policy

    def weight_near(self, at: datetime) -> Measurement | None:
        policy = self._policy
        return nearest(self._weights, at, policy.dose_weight_before, policy.dose_weight_after)

    def bsa_near(self, at: datetime) -> BodySurfaceArea | None:
        weight = self.weight_near(at)
        return None if weight is None else self.bsa_for(weight)

    def bsa_for(self, weight: Measurement) -> BodySurfaceArea | None:
        gap = self._policy.bsa_height_gap
        height = nearest(self._heights, weight.at, gap, gap)
        if height is None or weight.value <= 0 or height.value <= 0:
            return None
        return BodySurfaceArea(mosteller_bsa(weight.value, height.value), weight, height)

    def latest_bsa(self) -> BodySurfaceArea | None:
        """BSA from the newest weight that has a height within the allowed gap."""
        for weight in reversed(self._weights):
            bsa = self.bsa_for(weight)
            if bsa is not None:
                return bsa
        return None
