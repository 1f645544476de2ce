"""Checks of meaning on a schema-valid dosing policy: numbers that must agree with each other."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cds_service.knowledge.dosing_policy_types import (
    DosingPolicy,
    IvigPolicy,
    Rounding,
    SourcedValue,
    WeightPolicy,
)
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.files import field_error

# The unit each number is computed in: a number in another unit cannot be honoured.
UNITS: Mapping[str, str] = MappingProxyType(
    {
        "weight.recencyDays": "d",
        "egfr.schwartzK": "mL/min/1.73m2 per cm/(mg/dL)",
        "weight.plausibleMinKg": "kg",
        "weight.plausibleMaxKg": "kg",
        "weight.maxChangeFraction": "1",
        "weight.changeWindowDays": "d",
        "weight.heightWindowDays": "d",
        "ivig.gPerKgPerCourse": "g/kg",
        "ivig.capGPerCourse": "g",
        "ivig.defaultDays": "d",
        "ivig.riskDays": "d",
        "ivig.riskGPerKgPerDay": "g/kg/d",
        "ivig.intervalWeeks": "wk",
        "ivig.mlPerKgPerCourse": "mL/kg",
        "ivig.startRateMlPerKgMin": "mL/kg/min",
        "ivig.startRateMinutes": "min",
        "ivig.maxRateMlPerKgMin": "mL/kg/min",
        "ivig.maxRateAtRiskMlPerKgMin": "mL/kg/min",
        "ivig.product.concentrationGPerMl": "g/mL",
        "ivig.vialRounding.maxDeviationFraction": "1",
        "obesity.bmiCentileThreshold": "%",
        "obesity.ddwExcessFraction": "1",
        "obesity.ibwBmiCentile": "%",
        "rituximab.mgPerM2PerInfusion": "mg/m2",
        "rituximab.capMgPerInfusion": "mg",
        "rituximab.infusions": "{infusion}",
        "rituximab.intervalDays": "d",
        "rituximab.alternativeIntervalDays": "d",
        "cyclophosphamide.mgPerM2PerPulseLow": "mg/m2",
        "cyclophosphamide.mgPerM2PerPulseHigh": "mg/m2",
        "cyclophosphamide.capMgPerPulse": "mg",
        "cyclophosphamide.intervalWeeks": "wk",
        # bound by card texts only (the contraception note), not used in arithmetic
        "contraception.rituximabMonthsAfter": "mo",
        "contraception.mycophenolateWeeksAfter": "wk",
        "contraception.mycophenolateRepeatTestDaysLow": "d",
        "contraception.mycophenolateRepeatTestDaysHigh": "d",
        "rituximab.adultRegimen.doseMg": "mg",
        "rituximab.adultRegimen.infusions": "{infusion}",
        "rituximab.adultRegimen.intervalDays": "d",
    }
)


def check_policy_meaning(policy: DosingPolicy, path: Path) -> None:
    """Raise KnowledgeError (file + field) on the first inconsistency found."""
    for value in _sourced_values(policy):
        unit = UNITS.get(value.name)
        if unit is None or value.unit != unit:
            raise field_error(
                path, f"{value.name}.unit", f"the arithmetic uses {unit or 'no such number'}"
            )
        for key in value.sources:
            if key not in policy.sources:
                raise field_error(
                    path,
                    f"{value.name}.sources",
                    f"unknown source key {key!r} (add it to sources.json)",
                )
        if value.value <= 0:
            raise field_error(path, f"{value.name}.value", "must be greater than 0")
    for key in policy.obesity.growth_reference_sources:
        if key not in policy.sources:
            raise field_error(path, "obesity.growthReferenceSources", f"unknown source key {key!r}")
    for centile in (policy.obesity.bmi_centile_threshold, policy.obesity.ibw_bmi_centile):
        if not 0 < centile.value < 100:
            raise field_error(path, f"{centile.name}.value", "a centile is between 0 and 100")
    _check_ivig(policy.ivig, path)
    _check_weight(policy.weight, path)
    _check_rounding(policy.rounding, path)


def _sourced_values(node: Any) -> Iterator[SourcedValue]:
    if isinstance(node, SourcedValue):
        yield node
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for item in dataclasses.fields(node):
            yield from _sourced_values(getattr(node, item.name))
    elif isinstance(node, tuple):
        for item in node:
            yield from _sourced_values(item)


def _fail(path: Path, field: str, message: str) -> KnowledgeError:
    return field_error(path, field, message)


def _check_ivig(ivig: IvigPolicy, path: Path) -> None:
    expected_ml = ivig.g_per_kg_per_course.value / ivig.product.concentration_g_per_ml.value
    if ivig.ml_per_kg_per_course.value != expected_ml:
        raise _fail(
            path,
            "ivig.mlPerKgPerCourse",
            f"{ivig.ml_per_kg_per_course.value} mL/kg disagrees with gPerKgPerCourse / "
            f"product.concentrationGPerMl = {expected_ml} mL/kg",
        )
    split_total = ivig.risk_g_per_kg_per_day.value * ivig.risk_days.value
    if split_total != ivig.g_per_kg_per_course.value:
        raise _fail(
            path,
            "ivig.riskGPerKgPerDay",
            f"{ivig.risk_g_per_kg_per_day.value} g/kg/day x {ivig.risk_days.value} days = "
            f"{split_total} g/kg, not the course's {ivig.g_per_kg_per_course.value} g/kg",
        )
    start = ivig.start_rate_ml_per_kg_min.value
    at_risk = ivig.max_rate_at_risk_ml_per_kg_min.value
    if not start <= at_risk <= ivig.max_rate_ml_per_kg_min.value:
        raise _fail(
            path,
            "ivig.maxRateAtRiskMlPerKgMin",
            "rates must satisfy startRate <= maxRateAtRisk <= maxRate",
        )
    if any(size <= 0 for size in ivig.vial_rounding.vial_sizes_g):
        raise _fail(path, "ivig.vialRounding.vialSizesG", "vial sizes must be greater than 0")
    if ivig.vial_rounding.max_deviation_fraction.value >= 1:
        raise _fail(path, "ivig.vialRounding.maxDeviationFraction", "must be below 1")


def _check_weight(weight: WeightPolicy, path: Path) -> None:
    if weight.plausible_min_kg.value >= weight.plausible_max_kg.value:
        raise _fail(path, "weight.plausibleMinKg", "must be below weight.plausibleMaxKg")
    if weight.max_change_fraction.value >= 1:
        raise _fail(path, "weight.maxChangeFraction", "must be below 1 (a fraction, 0.20 = 20 %)")


def _check_rounding(rounding: Rounding, path: Path) -> None:
    for name in ("grams", "millilitres", "milligrams", "kilograms", "bsa", "ml_per_hour", "bmi"):
        quantum: Decimal = getattr(rounding, name)
        if quantum <= 0:
            raise _fail(path, f"rounding.{name}Quantum", "must be greater than 0")
