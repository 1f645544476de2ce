"""FHIR date/dateTime/instant values -> timezone-aware datetimes in the clock's zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo
from typing import Any

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def to_datetime(value: Any, zone: tzinfo) -> datetime | None:
    """A FHIR time as an aware datetime.

    A date without a time (``2025-03-01``) is midnight of that day in `zone`; a partial date
    (``2025-03``, ``2025``) is its first day. A dateTime keeps its own offset; one without an
    offset (not valid FHIR, but seen) is read in `zone`.

    >>> from zoneinfo import ZoneInfo
    >>> to_datetime("2025-03", ZoneInfo("Pacific/Auckland")).isoformat()
    '2025-03-01T00:00:00+13:00'
    """
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=zone)
    if not isinstance(value, str):
        return None
    match = _PARTIAL.match(value)
    if match:
        year, month, day = (int(part) if part else 1 for part in match.groups())
        try:
            return datetime(year, month, day, tzinfo=zone)
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def clock_zone(now: datetime) -> tzinfo:
    """The clock's zone; a naive clock is a programming error (dates would be ambiguous)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.tzinfo


def period_start(period: Any, zone: tzinfo) -> datetime | None:
    return to_datetime(getattr(period, "start", None), zone) if period is not None else None


def period_end(period: Any, zone: tzinfo) -> datetime | None:
    return to_datetime(getattr(period, "end", None), zone) if period is not None else None
