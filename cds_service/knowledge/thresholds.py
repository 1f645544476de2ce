"""Thresholds (``cards/thresholds.json``): the numbers the rules compare values with.

Each threshold's ``comparison`` decides when it is crossed: ``lt``/``le``/``gt``/``ge`` between
the observed value (or, for a time window, the time elapsed) and the threshold. The rules ask the
threshold (:meth:`Threshold.crossed`, :meth:`Threshold.crossed_by_ratio`,
:meth:`Threshold.crossed_by_elapsed`), so editing ``comparison`` changes the boundary; the loader
only accepts the direction each rule is written for (``lt``/``le`` or ``gt``/``ge``).

>>> t = Threshold("cmas_weakness", Decimal("48"), "{score}", "lt", "PRINTO-CID", "...")
>>> t.crossed(Decimal("47")), t.crossed(Decimal("48"))
(True, False)
"""

from __future__ import annotations

import calendar
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cds_service.knowledge.files import field_error, read_validated
from cds_service.knowledge.sources import Source, check_source_key

COMPARATORS: Mapping[str, Callable[[Any, Any], bool]] = MappingProxyType(
    {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
)
COMPARISON_SIGNS: Mapping[str, str] = MappingProxyType(
    {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
)
TIME_UNITS = frozenset({"d", "wk", "mo"})
BELOW = frozenset({"lt", "le"})  # crossed when the observed value is under the threshold
ABOVE = frozenset({"gt", "ge"})  # crossed when it is over

# The thresholds the rules read, each with the direction its rule is written for.
REQUIRED_THRESHOLDS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "methotrexate_adequate_trial_weeks": ABOVE,
        "ivig_recent_weeks": BELOW,
        "ivig_failing_courses": ABOVE,
        "ivig_jdm_course_g_per_kg": ABOVE,
        "ivig_response_review_weeks": ABOVE,
        "ivig_course_overdue_days": ABOVE,
        "ivig_trial_lapsed_weeks": ABOVE,
        "cmas_improving_points": ABOVE,
        "mmt8_improving_points": ABOVE,
        "monitoring_window_weeks": ABOVE,
        "cmas_weakness": BELOW,
        "mmt8_weakness": BELOW,
        "cmas_red_flag": BELOW,
        "mmt8_red_flag": BELOW,
        "egfr_renal_warning": BELOW,
        "egfr_renal_hard_stop": BELOW,
        "creatinine_rise_ratio": ABOVE,
        "creatinine_rise_window_months": BELOW,
        "iga_low_mg_dl": BELOW,
        "live_vaccine_months": BELOW,
        "vaccine_deferral_months": ABOVE,
        "extramuscular_screen_months": ABOVE,
        "swallow_study_recent_weeks": BELOW,
        "cvc_recent_days": BELOW,
        "estrogen_recent_days": BELOW,
        "taper_floor_before_2_months": BELOW,
        "taper_floor_before_4_months": BELOW,
        "taper_floor_before_6_months": BELOW,
        "taper_max_drop_fraction": BELOW,
        "taper_drop_window_weeks": BELOW,
        "data_quality_therapy_months": BELOW,
        "childbearing_potential_age_years": ABOVE,
        "pregnancy_test_recent_weeks": BELOW,
        "live_vaccine_repeat_days": BELOW,
        "immunosuppressive_steroid_mg_per_kg_day": ABOVE,
        "immunosuppressive_steroid_mg_day": ABOVE,
        "immunosuppressive_steroid_days": ABOVE,
        "methotrexate_current_days": BELOW,
        "ck_inactive_u_l": BELOW,
        "problem_stale_months": ABOVE,
        "methotrexate_schedule_recent_days": BELOW,
        "methotrexate_given_max_in_7_days": ABOVE,
    }
)
# The unit of the values a threshold is compared with (the measurement's canonical unit, or 1 for
# a ratio): a threshold in any other unit cannot be honoured.
VALUE_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "ivig_failing_courses": "courses",
        "ivig_jdm_course_g_per_kg": "g/kg",
        "cmas_improving_points": "{score}",
        "mmt8_improving_points": "{score}",
        "cmas_weakness": "{score}",
        "mmt8_weakness": "{score}",
        "cmas_red_flag": "{score}",
        "mmt8_red_flag": "{score}",
        "egfr_renal_warning": "mL/min/{1.73_m2}",
        "egfr_renal_hard_stop": "mL/min/{1.73_m2}",
        "creatinine_rise_ratio": "1",
        "iga_low_mg_dl": "mg/dL",
        "taper_floor_before_2_months": "1",
        "taper_floor_before_4_months": "1",
        "taper_floor_before_6_months": "1",
        "taper_max_drop_fraction": "1",
        "childbearing_potential_age_years": "a",
        "immunosuppressive_steroid_mg_per_kg_day": "mg/kg/d",
        "immunosuppressive_steroid_mg_day": "mg/d",
        "ck_inactive_u_l": "U/L",
        "methotrexate_given_max_in_7_days": "doses",
    }
)
# windows: thresholds whose value is a span of time (their unit must be d, wk or mo)
TIME_WINDOWS = frozenset(
    {
        "methotrexate_adequate_trial_weeks",
        "ivig_recent_weeks",
        "ivig_response_review_weeks",
        "ivig_course_overdue_days",
        "ivig_trial_lapsed_weeks",
        "monitoring_window_weeks",
        "creatinine_rise_window_months",
        "live_vaccine_months",
        "vaccine_deferral_months",
        "extramuscular_screen_months",
        "swallow_study_recent_weeks",
        "cvc_recent_days",
        "estrogen_recent_days",
        "taper_drop_window_weeks",
        "data_quality_therapy_months",
        "pregnancy_test_recent_weeks",
        "live_vaccine_repeat_days",
        "immunosuppressive_steroid_days",
        "methotrexate_current_days",
        "problem_stale_months",
        "methotrexate_schedule_recent_days",
    }
)


@dataclass(frozen=True)
class Threshold:
    name: str
    value: Decimal
    unit: str
    comparison: str  # lt | le | gt | ge
    source: str  # a key of sources.json, or "design default"
    description: str

    @property
    def sign(self) -> str:
        """The comparison as cards write it: ``<``, ``<=``, ``>``, ``>=``."""
        return COMPARISON_SIGNS[self.comparison]

    def crossed(self, observed: Decimal) -> bool:
        """``observed <comparison> value``: e.g. CMAS 47 crosses ``lt 48``."""
        return COMPARATORS[self.comparison](observed, self.value)

    def crossed_by_ratio(self, numerator: Decimal, denominator: Decimal) -> bool:
        """``numerator / denominator <comparison> value``, without dividing."""
        return COMPARATORS[self.comparison](numerator, self.value * denominator)

    def crossed_by_elapsed(self, since: datetime, until: datetime) -> bool:
        """The time from ``since`` to ``until`` compared with the window (calendar months)."""
        boundary = shift(until, self, -1)
        # elapsed > window  <=>  since < boundary, and so on for the other comparisons
        return COMPARATORS[self.comparison](boundary, since)


def shift(at: datetime, threshold: Threshold, sign: int = 1) -> datetime:
    """``at`` moved by the threshold's span (d, wk or calendar months), forward or back."""
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


def load_thresholds(
    cards: Path, sources: Mapping[str, Source], taper_floors: Collection[str] = ()
) -> Mapping[str, Threshold]:
    """``taper_floors``: the floor thresholds decision.json names (read like the taper's)."""
    path = cards / "thresholds.json"
    raw = read_validated(path, cards / "schemas" / "thresholds.schema.json")["thresholds"]
    for name in REQUIRED_THRESHOLDS:
        if name not in raw:
            raise field_error(path, f"thresholds.{name}", "required threshold missing")
    thresholds = {}
    for name, entry in raw.items():
        field = f"thresholds.{name}"
        check_source_key(entry["source"], sources, path, f"{field}.source")
        allowed = BELOW if name in taper_floors else REQUIRED_THRESHOLDS.get(name)
        if allowed is None:
            raise field_error(path, field, "no rule reads this threshold: remove it")
        if entry["comparison"] not in allowed:
            raise field_error(
                path,
                f"{field}.comparison",
                f"the rule compares in the other direction: use one of {sorted(allowed)}",
            )
        if name in TIME_WINDOWS and entry["unit"] not in TIME_UNITS:
            raise field_error(path, f"{field}.unit", "a time window needs d, wk or mo")
        unit = "1" if name in taper_floors else VALUE_UNITS.get(name)
        if unit is not None and entry["unit"] != unit:
            raise field_error(path, f"{field}.unit", f"the rule compares values in {unit}")
        thresholds[name] = Threshold(
            name=name,
            value=Decimal(entry["value"]),
            unit=entry["unit"],
            comparison=entry["comparison"],
            source=entry["source"],
            description=entry["description"],
        )
    return MappingProxyType(thresholds)
