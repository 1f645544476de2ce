"""Calendar arithmetic for rule windows ("in the last 3 months", "12 weeks after")."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from decimal import Decimal

from cds_service.knowledge.loader import Threshold


def window_start(now: datetime, threshold: Threshold) -> datetime:
    """The earliest instant inside a look-back window given by a threshold in d, wk or mo."""
    return shift(now, threshold, -1)


def shift(at: datetime, threshold: Threshold, sign: int = 1) -> datetime:
    """`at` moved by the threshold's span (d, wk or calendar months), forward or back."""
    amount = threshold.value * sign
    if threshold.unit == "d":
        return at + timedelta(days=float(amount))
    if threshold.unit == "wk":
        return at + timedelta(weeks=float(amount))
    if threshold.unit == "mo":
        return add_months(at, int(amount))
    raise ValueError(f"threshold {threshold.name} has no time unit: {threshold.unit}")


def add_months(at: datetime, months: int) -> datetime:
    """Calendar months; the day is clipped to the target month's length (31 Mar - 1 mo = 28 Feb)."""
    index = at.year * 12 + (at.month - 1) + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return at.replace(year=year, month=month + 1, day=min(at.day, last_day))


def weeks_between(start: datetime, end: datetime) -> Decimal:
    """Weeks from start to end, one decimal (display only; compare instants, not this)."""
    seconds = Decimal(str((end - start).total_seconds()))
    return (seconds / Decimal(7 * 24 * 3600)).quantize(Decimal("0.1"))


def day(at: datetime | None) -> str:
    return at.date().isoformat() if at is not None else "date unknown"
