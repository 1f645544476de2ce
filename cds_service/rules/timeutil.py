"""Calendar arithmetic for rule windows ("in the last 3 months", "12 weeks after")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cds_service.knowledge.thresholds import Threshold, add_months, shift

__all__ = ["add_months", "day", "shift", "weeks_between", "window_start"]


def window_start(now: datetime, threshold: Threshold) -> datetime:
    """The earliest instant inside a look-back window given by a threshold in d, wk or mo."""
    return shift(now, threshold, -1)


def weeks_between(start: datetime, end: datetime) -> Decimal:
    """Weeks from start to end, one decimal (display only; compare instants, not this).

    >>> from datetime import UTC
    >>> weeks_between(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC))
    Decimal('1.4')
    """
    seconds = Decimal(str((end - start).total_seconds()))
    return (seconds / Decimal(7 * 24 * 3600)).quantize(Decimal("0.1"))


def day(at: datetime | None) -> str:
    return at.date().isoformat() if at is not None else "date unknown"
