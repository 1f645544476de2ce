"""Which weight (and height) may be used for a dose, and if none, why not.

A child's weight changes; a dose built on an old, mistyped or swapped weight harms. So the newest
weight is used only when it is recent, plausible, and not a jump of more than the allowed fraction
from another weight measured shortly before it. Otherwise the assessment says why, with the
measurements involved, for the ``weight-needed`` card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from cds_service.history.model import Measurement
from cds_service.knowledge.dosing_policy import DosingPolicy

UNUSABLE_STATUSES = frozenset({"entered-in-error", "cancelled"})
# An EHR clock a little ahead of ours must not make a weight taken just now unusable; anything
# further in the future is an entry error. A technical allowance, not a clinical number.
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=5)


class WeightStatus(StrEnum):
    USABLE = "usable"
    MISSING = "missing"  # no weight at all
    FUTURE = "future"  # dated after `now`: a clock or entry error
    IMPLAUSIBLE = "implausible"  # outside the plausible range
    STALE = "stale"  # older than the recency limit
    CHANGED = "changed"  # changed by more than the allowed fraction: confirm before use


@dataclass(frozen=True)
class WeightAssessment:
    """The newest weight and whether a dose may be built on it.

    ``weight`` is the newest weight found (also when not usable, so the card can show it);
    ``compared_with`` is the earlier weight a CHANGED status refers to.
    """

    status: WeightStatus
    weight: Measurement | None
    age_days: int | None  # whole calendar days from the weight's date to now's date (>= 0)
    compared_with: Measurement | None = None
    change_fraction: Decimal | None = None  # |new - old| / old, exact

    @property
    def usable(self) -> bool:
        return self.status is WeightStatus.USABLE

    @property
    def measurements(self) -> tuple[Measurement, ...]:
        """The measurements this assessment used (for evidence)."""
        return tuple(m for m in (self.weight, self.compared_with) if m is not None)


def calendar_age_days(at: datetime, now: datetime) -> int:
    """Whole days between two instants, counted on the calendar of ``now``'s time zone.

    >>> from datetime import timezone
    >>> utc = timezone.utc
    >>> late, early = datetime(2026, 3, 1, 23, tzinfo=utc), datetime(2026, 3, 2, 1, tzinfo=utc)
    >>> calendar_age_days(late, early)
    1
    """
    return (now.date() - at.astimezone(now.tzinfo).date()).days


def select_dosing_weight(
    history_weights: Sequence[Measurement], now: datetime, policy: DosingPolicy
) -> WeightAssessment:
    """Assess the newest weight for dosing. Pure: ``now`` is passed in and must be aware.

    Estimated weights count only when no measured weight is on record (the dose then says so).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    weights = sorted(
        (m for m in history_weights if m.status not in UNUSABLE_STATUSES), key=lambda m: m.at
    )
    measured = [m for m in weights if not m.estimated]
    if measured:  # an estimated weight (LOINC 8335-2) only when none was ever measured
        weights = measured
    if not weights:
        return WeightAssessment(WeightStatus.MISSING, None, None)
    newest = weights[-1]  # judged and shown as recorded; dosed as read (as_read)
    age_days = max(calendar_age_days(newest.at, now), 0)
    rules = policy.weight
    if newest.at > now + CLOCK_SKEW_ALLOWANCE:
        return WeightAssessment(WeightStatus.FUTURE, newest, age_days)
    low, high = rules.plausible_min_kg.value, rules.plausible_max_kg.value
    if not low <= newest.value <= high:
        return WeightAssessment(WeightStatus.IMPLAUSIBLE, newest, age_days)
    if age_days > rules.recency_days.as_int:
        return WeightAssessment(WeightStatus.STALE, newest, age_days)
    return _check_change(newest, weights[:-1], age_days, policy)


def as_read(weight: Measurement, policy: DosingPolicy) -> Measurement:
    """The weight as a clinician reads it, to the kilogram quantum of dosing.json (0.1 kg: a
    scale's precision); ``original`` keeps the figure as recorded. A weight of
    34.53899282938331 kg (Synthea) doses as 34.5 kg.

    >>> from cds_service.config import REPO_ROOT
    >>> from cds_service.knowledge.dosing_policy import load_dosing_policy
    >>> from cds_service.history.model import SourceRef
    >>> w = Measurement("weight", Decimal("34.53899"), "kg", datetime(2026, 3, 1), "final",
    ...                 None, None, "34.53899 kg", SourceRef("Observation", "w"))
    >>> as_read(w, load_dosing_policy(REPO_ROOT / "cards" / "dosing.json")).value
    Decimal('34.5')
    """
    rounding = policy.rounding
    value = rounding.round(weight.value, rounding.kilograms)
    return weight if value == weight.value else replace(weight, value=value)


def _check_change(
    newest: Measurement,
    earlier: Sequence[Measurement],
    age_days: int,
    policy: DosingPolicy,
) -> WeightAssessment:
    window = timedelta(days=policy.weight.change_window_days.as_int)
    limit = policy.weight.max_change_fraction.value
    largest: tuple[Decimal, Measurement] | None = None
    for previous in earlier:
        if newest.at - previous.at > window or previous.value <= 0:
            continue
        fraction = abs(newest.value - previous.value) / previous.value
        if fraction > limit and (largest is None or fraction > largest[0]):
            largest = (fraction, previous)
    if largest is None:  # the only weight a dose is computed on: read to 0.1 kg
        return WeightAssessment(WeightStatus.USABLE, as_read(newest, policy), age_days)
    fraction, previous = largest
    return WeightAssessment(
        WeightStatus.CHANGED, newest, age_days, compared_with=previous, change_fraction=fraction
    )


def select_height(
    heights: Sequence[Measurement], weight: Measurement, policy: DosingPolicy
) -> Measurement | None:
    """The height measured closest in time to ``weight``, within the height window, else None."""
    window = timedelta(days=policy.weight.height_window_days.as_int)
    candidates = [
        m
        for m in heights
        if m.status not in UNUSABLE_STATUSES and m.value > 0 and abs(m.at - weight.at) <= window
    ]
    if not candidates:
        return None
    # closest in time; on a tie, the later one (the child has not shrunk)
    return min(candidates, key=lambda m: (abs(m.at - weight.at), -m.at.timestamp()))
