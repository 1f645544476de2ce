"""The tests' "now": a fixed instant in a non-UTC zone, so date bugs between UTC and local show."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

FROZEN_NOW = datetime(2026, 3, 10, 9, 30, tzinfo=ZoneInfo("Pacific/Auckland"))


def frozen_clock() -> datetime:
    return FROZEN_NOW
