"""Builds :class:`DosingPolicy` from schema-valid ``cards/dosing.json`` content."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cds_service.knowledge.dosing_policy_types import (
    BsaPolicy,
    ContraceptionPolicy,
    CyclophosphamidePolicy,
    DosingPolicy,
    EgfrPolicy,
    IvigPolicy,
    IvigProduct,
    ObesityPolicy,
    OtherAgentDose,
    ProductCoding,
    RituximabPolicy,
    Rounding,
    SourcedValue,
    VialRounding,
    WeightPolicy,
)


def build_policy(raw: Mapping[str, Any], path: Path, sources: Mapping[str, str]) -> DosingPolicy:
    return _Builder(raw, path, sources).build()


class _Builder:
    """Turns the schema-valid JSON into dataclasses; names fields as dotted paths."""

    def __init__(self, raw: Mapping[str, Any], path: Path, sources: Mapping[str, str]) -> None:
        self.raw = raw
        self.path = path
        self.sources = sources

    def sourced(self, section: str, key: str) -> SourcedValue:
        node = self.raw[section][key] if "." not in section else self._nested(section)[key]
        return SourcedValue(
            name=f"{section}.{key}",
            value=Decimal(node["value"]),
            unit=node["unit"],
            sources=tuple(node["sources"]),
        )

    def _nested(self, dotted: str) -> Mapping[str, Any]:
        node: Any = self.raw
        for part in dotted.split("."):
            node = node[part]
        result: Mapping[str, Any] = node
        return result

    def build(self) -> DosingPolicy:
        raw = self.raw
        return DosingPolicy(
            version=raw["version"],
            status=raw["status"],
            sources=self.sources,
            rounding=self._rounding(),
            weight=WeightPolicy(
                *(
                    self.sourced("weight", key)
                    for key in (
                        "recencyDays",
                        "plausibleMinKg",
                        "plausibleMaxKg",
                        "maxChangeFraction",
                        "changeWindowDays",
                        "heightWindowDays",
                    )
                )
            ),
            ivig=self._ivig(),
            obesity=self._obesity(),
            bsa=BsaPolicy(raw["bsa"]["formula"], tuple(raw["bsa"]["sources"])),
            egfr=EgfrPolicy(self.sourced("egfr", "schwartzK")),
            rituximab=self._rituximab(),
            cyclophosphamide=CyclophosphamidePolicy(
                mg_per_m2_low=self.sourced("cyclophosphamide", "mgPerM2PerPulseLow"),
                mg_per_m2_high=self.sourced("cyclophosphamide", "mgPerM2PerPulseHigh"),
                cap_mg=self.sourced("cyclophosphamide", "capMgPerPulse"),
                interval_weeks=self.sourced("cyclophosphamide", "intervalWeeks"),
            ),
            contraception=ContraceptionPolicy(
                *(
                    self.sourced("contraception", key)
                    for key in (
                        "rituximabMonthsAfter",
                        "mycophenolateWeeksAfter",
                        "mycophenolateRepeatTestDaysLow",
                        "mycophenolateRepeatTestDaysHigh",
                    )
                )
            ),
            other_agents=MappingProxyType(
                {
                    agent: OtherAgentDose(agent, entry["dose"], tuple(entry["sources"]))
                    for agent, entry in raw["otherAgents"].items()
                }
            ),
        )

    def _rounding(self) -> Rounding:
        node = self.raw["rounding"]
        return Rounding(
            mode=node["mode"],
            grams=Decimal(node["gramsQuantum"]),
            millilitres=Decimal(node["millilitresQuantum"]),
            milligrams=Decimal(node["milligramsQuantum"]),
            kilograms=Decimal(node["kilogramsQuantum"]),
            bsa=Decimal(node["bsaQuantum"]),
            ml_per_hour=Decimal(node["mlPerHourQuantum"]),
            bmi=Decimal(node["bmiQuantum"]),
            centile=Decimal(node["centileQuantum"]),
            bsa_rounded_before_dose=node["bsaRoundedBeforeDose"],
        )

    def _ivig(self) -> IvigPolicy:
        product = self.raw["ivig"]["product"]
        coding = product["coding"]
        vials = self.raw["ivig"]["vialRounding"]
        return IvigPolicy(
            g_per_kg_per_course=self.sourced("ivig", "gPerKgPerCourse"),
            cap_g_per_course=self.sourced("ivig", "capGPerCourse"),
            default_days=self.sourced("ivig", "defaultDays"),
            risk_days=self.sourced("ivig", "riskDays"),
            risk_g_per_kg_per_day=self.sourced("ivig", "riskGPerKgPerDay"),
            interval_weeks=self.sourced("ivig", "intervalWeeks"),
            ml_per_kg_per_course=self.sourced("ivig", "mlPerKgPerCourse"),
            start_rate_ml_per_kg_min=self.sourced("ivig", "startRateMlPerKgMin"),
            start_rate_minutes=self.sourced("ivig", "startRateMinutes"),
            max_rate_ml_per_kg_min=self.sourced("ivig", "maxRateMlPerKgMin"),
            max_rate_at_risk_ml_per_kg_min=self.sourced("ivig", "maxRateAtRiskMlPerKgMin"),
            product=IvigProduct(
                name=product["name"],
                concentration_g_per_ml=self.sourced("ivig.product", "concentrationGPerMl"),
                coding=ProductCoding(
                    system=coding["system"],
                    code=coding["code"],
                    display=coding["display"],
                    verified=coding["verified"],
                ),
            ),
            vial_rounding=VialRounding(
                enabled=vials["enabled"],
                vial_sizes_g=tuple(sorted(Decimal(size) for size in vials["vialSizesG"])),
                max_deviation_fraction=self.sourced("ivig.vialRounding", "maxDeviationFraction"),
                tie_break=vials["tieBreak"],
            ),
        )

    def _obesity(self) -> ObesityPolicy:
        node = self.raw["obesity"]
        return ObesityPolicy(
            bmi_centile_threshold=self.sourced("obesity", "bmiCentileThreshold"),
            ddw_excess_fraction=self.sourced("obesity", "ddwExcessFraction"),
            ibw_bmi_centile=self.sourced("obesity", "ibwBmiCentile"),
            dose_weight=node["doseWeight"],
            growth_reference=node["growthReference"],
            growth_reference_sources=tuple(node["growthReferenceSources"]),
        )

    def _rituximab(self) -> RituximabPolicy:
        return RituximabPolicy(
            mg_per_m2_per_infusion=self.sourced("rituximab", "mgPerM2PerInfusion"),
            cap_mg_per_infusion=self.sourced("rituximab", "capMgPerInfusion"),
            infusions=self.sourced("rituximab", "infusions"),
            interval_days=self.sourced("rituximab", "intervalDays"),
            alternative_interval_days=self.sourced("rituximab", "alternativeIntervalDays"),
            adult_dose_mg=self.sourced("rituximab.adultRegimen", "doseMg"),
            adult_infusions=self.sourced("rituximab.adultRegimen", "infusions"),
            adult_interval_days=self.sourced("rituximab.adultRegimen", "intervalDays"),
        )
