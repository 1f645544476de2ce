"""The dosing policy: every dosing number, loaded from ``cards/dosing.json`` and validated.

The file is checked twice: by ``cards/schemas/dosing.schema.json`` (shape) and here (meaning:
known source keys, rates that make sense together, volume per kg agreeing with the product's
concentration). Any failure raises :class:`~cds_service.knowledge.KnowledgeError` naming the file
and the field, so a broken edit stops the service at startup rather than mis-dosing a child.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema

from cds_service.dosing.policy_checks import check_policy_meaning
from cds_service.knowledge import KnowledgeError

SCHEMA_RELATIVE_PATH = Path("schemas") / "dosing.schema.json"
SOURCES_FILE = "sources.json"
DESIGN_DEFAULT = "design default"  # the source key of a number no publication gives


@dataclass(frozen=True)
class SourcedValue:
    """A number, its unit and the keys of its sources (``design-default`` when none exists)."""

    name: str  # dotted path in dosing.json, e.g. "ivig.capGPerCourse"
    value: Decimal
    unit: str
    sources: tuple[str, ...]

    @property
    def as_int(self) -> int:
        return int(self.value)

    @property
    def source_key(self) -> str:
        return ",".join(self.sources)


@dataclass(frozen=True)
class Rounding:
    rule: str  # the rule in words, shown on cards
    mode: str  # a decimal module rounding constant name, e.g. ROUND_HALF_UP
    grams: Decimal
    millilitres: Decimal
    milligrams: Decimal
    kilograms: Decimal
    bsa: Decimal
    ml_per_hour: Decimal
    bmi: Decimal
    centile: Decimal
    bsa_rounded_before_dose: bool

    def round(self, value: Decimal, quantum: Decimal) -> Decimal:
        return value.quantize(quantum, rounding=self.mode)


@dataclass(frozen=True)
class WeightPolicy:
    recency_days: SourcedValue
    plausible_min_kg: SourcedValue
    plausible_max_kg: SourcedValue
    max_change_fraction: SourcedValue
    change_window_days: SourcedValue
    height_window_days: SourcedValue


@dataclass(frozen=True)
class ProductCoding:
    system: str
    code: str
    display: str
    verified: bool
    verification_note: str


@dataclass(frozen=True)
class IvigProduct:
    name: str
    concentration_g_per_ml: SourcedValue
    label_note: str
    coding: ProductCoding


@dataclass(frozen=True)
class VialRounding:
    enabled: bool
    vial_sizes_g: tuple[Decimal, ...]
    max_deviation_fraction: SourcedValue
    tie_break: str  # "lower" | "higher"


@dataclass(frozen=True)
class IvigPolicy:
    g_per_kg_per_course: SourcedValue
    cap_g_per_course: SourcedValue
    default_days: SourcedValue
    risk_days: SourcedValue
    risk_g_per_kg_per_day: SourcedValue
    interval_weeks: SourcedValue
    courses_before_response_review: SourcedValue
    ml_per_kg_per_course: SourcedValue
    start_rate_ml_per_kg_min: SourcedValue
    start_rate_minutes: SourcedValue
    max_rate_ml_per_kg_min: SourcedValue
    max_rate_at_risk_ml_per_kg_min: SourcedValue
    product: IvigProduct
    vial_rounding: VialRounding


@dataclass(frozen=True)
class ObesityPolicy:
    bmi_centile_threshold: SourcedValue
    ddw_excess_fraction: SourcedValue
    ibw_bmi_centile: SourcedValue
    dose_weight: str  # "actual" | "ddw": which weight the recommended dose uses
    growth_reference: str  # "uk-who" | "cdc"
    growth_reference_sources: tuple[str, ...]


@dataclass(frozen=True)
class RituximabPolicy:
    mg_per_m2_per_infusion: SourcedValue
    cap_mg_per_infusion: SourcedValue
    infusions: SourcedValue
    interval_days: SourcedValue
    adult_regimen_warning: str


@dataclass(frozen=True)
class OtherAgentDose:
    agent: str
    display: str
    dose: str
    max: str
    sources: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class DosingPolicy:
    version: str
    status: str
    sources: Mapping[str, str]  # citation key -> label (cards/sources.json + design default)
    rounding: Rounding
    weight: WeightPolicy
    ivig: IvigPolicy
    obesity: ObesityPolicy
    rituximab: RituximabPolicy
    other_agents: tuple[OtherAgentDose, ...]


def load_dosing_policy(
    path: Path, *, schema_path: Path | None = None, sources_path: Path | None = None
) -> DosingPolicy:
    """Read, validate and build the policy.

    ``schema_path`` defaults to ``schemas/dosing.schema.json`` and ``sources_path`` (the citation
    keys every number must cite) to ``sources.json``, both beside ``path``.
    """
    raw = _read_json(path)
    schema = _read_json(schema_path or path.parent / SCHEMA_RELATIVE_PATH)
    _validate_shape(raw, schema, path)
    sources = _source_labels(sources_path or path.parent / SOURCES_FILE)
    builder = _Builder(raw, path, sources)
    policy = builder.build()
    check_policy_meaning(policy, path)
    return policy


def _source_labels(path: Path) -> Mapping[str, str]:
    """Citation key -> label from cards/sources.json, plus the design-default key."""
    raw = _read_json(path)
    entries = raw.get("sources") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise KnowledgeError(f"{path}: field sources: missing or not an object")
    labels = {key: str(entry.get("label", key)) for key, entry in entries.items()}
    labels[DESIGN_DEFAULT] = "No published number: this service's default, stated as such"
    return MappingProxyType(labels)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KnowledgeError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KnowledgeError(f"{path}: not readable JSON ({exc})") from exc


def _validate_shape(raw: Any, schema: Mapping[str, Any], path: Path) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(raw), key=lambda error: list(error.absolute_path))
    if errors:
        first = errors[0]
        field = _field_name(first.absolute_path) or "(top level)"
        raise KnowledgeError(f"{path}: field {field}: {first.message}")


def _field_name(parts: Sequence[Any]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts).lstrip(
        "."
    )


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
            rituximab=self._rituximab(),
            other_agents=tuple(
                OtherAgentDose(
                    agent=row["agent"],
                    display=row["display"],
                    dose=row["dose"],
                    max=row["max"],
                    sources=tuple(row["sources"]),
                    note=row["note"],
                )
                for row in raw["otherAgents"]
            ),
        )

    def _rounding(self) -> Rounding:
        node = self.raw["rounding"]
        return Rounding(
            rule=node["rule"],
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
            courses_before_response_review=self.sourced("ivig", "coursesBeforeResponseReview"),
            ml_per_kg_per_course=self.sourced("ivig", "mlPerKgPerCourse"),
            start_rate_ml_per_kg_min=self.sourced("ivig", "startRateMlPerKgMin"),
            start_rate_minutes=self.sourced("ivig", "startRateMinutes"),
            max_rate_ml_per_kg_min=self.sourced("ivig", "maxRateMlPerKgMin"),
            max_rate_at_risk_ml_per_kg_min=self.sourced("ivig", "maxRateAtRiskMlPerKgMin"),
            product=IvigProduct(
                name=product["name"],
                concentration_g_per_ml=self.sourced("ivig.product", "concentrationGPerMl"),
                label_note=product["labelNote"],
                coding=ProductCoding(
                    system=coding["system"],
                    code=coding["code"],
                    display=coding["display"],
                    verified=coding["verified"],
                    verification_note=coding["verificationNote"],
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
            adult_regimen_warning=self.raw["rituximab"]["adultRegimenWarning"],
        )
