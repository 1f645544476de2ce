"""Weight and BSA near a date: the basis of per-kg and per-m2 doses (Mosteller BSA).

Recent weights and heights are mapped up front. Older ones are deferred by the parser and
validated only when a dose of their time needs its weight (:class:`BodySeries`), so a chart with
years of growth measurements costs only the ones a dose uses.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

from cds_service.history.model import BodySurfaceArea, Measurement
from cds_service.history.select import DeferredObservation
from cds_service.knowledge.history_policy import HistoryPolicy

BSA_QUANTUM = Decimal("0.01")  # m2, the precision BSA is charted and dosed with
MOSTELLER_DIVISOR = Decimal(3600)

# validates and maps one deferred Observation; None (with a note recorded) when unusable
Loader = Callable[[DeferredObservation], Measurement | None]


def mosteller_bsa_m2(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """Exact (28 digits) Mosteller BSA: √(height cm × weight kg / 3600) [Mosteller1987].

    The one BSA formula: the history's per-m2 doses and the rituximab dose both use it.

    >>> round(mosteller_bsa_m2(Decimal(30), Decimal(130)), 4)
    Decimal('1.0408')
    """
    if weight_kg <= 0 or height_cm <= 0:
        raise ValueError("weight and height must be positive")
    with localcontext() as context:
        context.prec = 28
        return (height_cm * weight_kg / MOSTELLER_DIVISOR).sqrt()


def mosteller_bsa(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """The Mosteller BSA rounded half-up to 0.01 m2, as charted.

    >>> mosteller_bsa(Decimal("26"), Decimal("132"))
    Decimal('0.98')
    """
    return mosteller_bsa_m2(weight_kg, height_cm).quantize(BSA_QUANTUM, ROUND_HALF_UP)


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


class BodySeries:
    """One concept's measurements (weight or height): mapped ones plus deferred ones."""

    def __init__(
        self,
        loaded: Sequence[Measurement],
        deferred: Sequence[DeferredObservation] = (),
        loader: Loader | None = None,
    ):
        self._loaded = sorted(loaded, key=lambda m: (m.at, m.source))
        self._deferred = sorted(deferred, key=lambda d: d.at)
        self._loader = loader

    @property
    def measurements(self) -> tuple[Measurement, ...]:
        """Everything mapped so far (recent ones and deferred ones a dose needed), by time."""
        return tuple(self._loaded)

    def nearest(self, at: datetime, before: timedelta, after: timedelta) -> Measurement | None:
        """The closest usable measurement in the window, validating a deferred one if closer."""
        while True:
            loaded = nearest(self._loaded, at, before, after)
            waiting = self._nearest_deferred(at, before, after)
            if waiting is None or self._loader is None:
                return loaded
            if loaded is not None and abs(loaded.at - at) <= abs(waiting.at - at):
                return loaded
            self._deferred.remove(waiting)
            measurement = self._loader(waiting)
            if measurement is not None:
                bisect.insort(self._loaded, measurement, key=lambda m: (m.at, m.source))

    def _nearest_deferred(
        self, at: datetime, before: timedelta, after: timedelta
    ) -> DeferredObservation | None:
        start = bisect.bisect_left(self._deferred, at - before, key=lambda d: d.at)
        best: DeferredObservation | None = None
        for item in self._deferred[start:]:
            if item.at > at + after:
                break
            if best is None or abs(item.at - at) < abs(best.at - at):
                best = item
        return best


class BodySize:
    """Looks up the weight and BSA in force at a dose's date."""

    def __init__(self, weights: BodySeries, heights: BodySeries, policy: HistoryPolicy):
        self.weights = weights
        self.heights = heights
        self._policy = policy

    def weight_near(self, at: datetime) -> Measurement | None:
        policy = self._policy
        return self.weights.nearest(at, policy.dose_weight_before, policy.dose_weight_after)

    def bsa_near(self, at: datetime) -> BodySurfaceArea | None:
        weight = self.weight_near(at)
        return None if weight is None else self.bsa_for(weight)

    def bsa_for(self, weight: Measurement) -> BodySurfaceArea | None:
        gap = self._policy.bsa_height_gap
        height = self.heights.nearest(weight.at, gap, gap)
        if height is None or weight.value <= 0 or height.value <= 0:
            return None
        return BodySurfaceArea(mosteller_bsa(weight.value, height.value), weight, height)

    def latest_bsa(self) -> BodySurfaceArea | None:
        """BSA from the newest weight that has a height within the allowed gap."""
        for weight in reversed(self.weights.measurements):
            bsa = self.bsa_for(weight)
            if bsa is not None:
                return bsa
        return None
