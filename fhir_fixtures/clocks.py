"""The frozen clocks of the tests, the fixtures and the bench: each defined once, here.

All in New Zealand (Pacific/Auckland, +13:00 in March), never UTC, so a date worked out in the
wrong zone lands on the wrong day and a test sees it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

AUCKLAND = ZoneInfo("Pacific/Auckland")
# New Zealand daylight time as a fixed offset: the scenario fixtures write every dateTime at
# +13:00, even the ones months back in winter (+12:00); their files on disk depend on it.
NZDT = timezone(timedelta(hours=13))

# "now" of the app in the HTTP tests (tests/conftest.py's make_app, app and client)
FROZEN_NOW = datetime(2026, 3, 10, 9, 30, tzinfo=AUCKLAND)
# the date every fixture under fhir_fixtures/ is written against (patients/, scenarios/), and
# "now" of the scenario, history, rule and golden-response tests
SCENARIO_NOW = datetime(2026, 3, 15, 10, 0, tzinfo=AUCKLAND)
# the same instant at the fixed offset the scenario builders date resources from
SCENARIO_NOW_NZDT = SCENARIO_NOW.astimezone(NZDT)
# "now" of the dosing tests (tests/dosing)
DOSING_NOW = datetime(2026, 3, 20, 9, 0, tzinfo=NZDT)


def frozen_clock() -> datetime:
    """The app's clock in the HTTP tests: always :data:`FROZEN_NOW`."""
    return FROZEN_NOW


def scenario_clock() -> datetime:
    """The app's clock when it answers for the fixtures: always :data:`SCENARIO_NOW`."""
    return SCENARIO_NOW
