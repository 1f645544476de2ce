"""The numbers of the order-time checks: ``cards/order-checks.json``, loaded and validated.

Each number carries its unit and source keys (docs/clinical/order-checks.md). The IVIG course
(2 g/kg, the 70 g cap, the split) and rituximab's 750 mg/m2 and 1 g cap are not repeated here:
the checks read them from ``cards/dosing.json``, so an order is held to the same dose the
``patient-view`` cards propose.

>>> from pathlib import Path
>>> policy = load_order_policy(Path(__file__).parents[2] / "cards")
>>> policy.methotrexate_cap_mg_per_week.value, policy.tolerance.value
(Decimal('40'), Decimal('0.10'))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from cds_service.knowledge.dosing_policy_types import SourcedValue
from cds_service.knowledge.files import field_error, read_validated
from cds_service.knowledge.sources import Source, check_source_keys

FILE = "order-checks.json"
# the unit the code reads each number in: another unit cannot be honoured, so it is refused
UNITS = {
    "toleranceFraction": "1",
    "methotrexate.maxAdministrationsPerWeek": "/wk",
    "methotrexate.mgPerM2PerWeek": "mg/m2/wk",
    "methotrexate.maxMgPerM2PerWeek": "mg/m2/wk",
    "methotrexate.capMgPerWeek": "mg/wk",
    "ivig.maxGPerKgPerDay": "g/kg/d",
    "ivig.underCourseFraction": "1",
    "ivig.minIntervalDays": "d",
    "rituximab.criticalRatio": "1",
    "methylprednisoloneIv.mgPerKgPerDay": "mg/kg/d",
    "methylprednisoloneIv.minMgPerKgPerDay": "mg/kg/d",
    "methylprednisoloneIv.capMgPerDay": "mg/d",
    "methylprednisoloneIv.days": "d",
    "prednisolone.mgPerKgPerDay": "mg/kg/d",
    "prednisolone.capMgPerDay": "mg/d",
}


@dataclass(frozen=True)
class OrderPolicy:
    tolerance: SourcedValue  # a dose within this fraction of its target counts as the target
    methotrexate_max_per_week: SourcedValue
    methotrexate_mg_per_m2_week: SourcedValue  # the dose a corrected order gets
    methotrexate_max_mg_per_m2_week: SourcedValue
    methotrexate_cap_mg_per_week: SourcedValue
    ivig_max_g_per_kg_day: SourcedValue
    ivig_under_fraction: SourcedValue
    ivig_min_interval_days: SourcedValue
    rituximab_critical_ratio: SourcedValue
    ivmp_mg_per_kg_day: SourcedValue
    ivmp_min_mg_per_kg_day: SourcedValue
    ivmp_cap_mg_per_day: SourcedValue
    ivmp_days: SourcedValue
    prednisolone_mg_per_kg_day: SourcedValue
    prednisolone_cap_mg_per_day: SourcedValue

    def over(self, value: Decimal, target: Decimal) -> bool:
        """Above ``target`` by more than the tolerance (at exactly +10 % it is the target)."""
        return value > target * (1 + self.tolerance.value)


def load_order_policy(cards: Path, sources: Mapping[str, Source] | None = None) -> OrderPolicy:
    path = cards / FILE
    raw = read_validated(path, cards / "schemas" / "order-checks.schema.json")

    def value(dotted: str) -> SourcedValue:
        node: Any = raw
        for part in dotted.split("."):
            node = node[part]
        if sources is not None:
            check_source_keys(node["sources"], sources, path, f"{dotted}.sources")
        if node["unit"] != UNITS[dotted]:
            raise field_error(path, f"{dotted}.unit", f"the checks read it in {UNITS[dotted]}")
        return SourcedValue(dotted, Decimal(node["value"]), node["unit"], tuple(node["sources"]))

    policy = OrderPolicy(
        tolerance=value("toleranceFraction"),
        methotrexate_max_per_week=value("methotrexate.maxAdministrationsPerWeek"),
        methotrexate_mg_per_m2_week=value("methotrexate.mgPerM2PerWeek"),
        methotrexate_max_mg_per_m2_week=value("methotrexate.maxMgPerM2PerWeek"),
        methotrexate_cap_mg_per_week=value("methotrexate.capMgPerWeek"),
        ivig_max_g_per_kg_day=value("ivig.maxGPerKgPerDay"),
        ivig_under_fraction=value("ivig.underCourseFraction"),
        ivig_min_interval_days=value("ivig.minIntervalDays"),
        rituximab_critical_ratio=value("rituximab.criticalRatio"),
        ivmp_mg_per_kg_day=value("methylprednisoloneIv.mgPerKgPerDay"),
        ivmp_min_mg_per_kg_day=value("methylprednisoloneIv.minMgPerKgPerDay"),
        ivmp_cap_mg_per_day=value("methylprednisoloneIv.capMgPerDay"),
        ivmp_days=value("methylprednisoloneIv.days"),
        prednisolone_mg_per_kg_day=value("prednisolone.mgPerKgPerDay"),
        prednisolone_cap_mg_per_day=value("prednisolone.capMgPerDay"),
    )
    if not Decimal(0) < policy.tolerance.value < 1:
        raise field_error(path, "toleranceFraction.value", "a fraction between 0 and 1")
    if not Decimal(0) < policy.ivig_under_fraction.value < 1:
        raise field_error(path, "ivig.underCourseFraction.value", "a fraction between 0 and 1")
    if policy.methotrexate_mg_per_m2_week.value > policy.methotrexate_max_mg_per_m2_week.value:
        raise field_error(path, "methotrexate.mgPerM2PerWeek", "above maxMgPerM2PerWeek")
    if policy.rituximab_critical_ratio.value <= 1:
        raise field_error(path, "rituximab.criticalRatio.value", "must be above 1")
    return policy
