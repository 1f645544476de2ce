"""The dosing policy's types: frozen dataclasses built from ``cards/dosing.json``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal


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


@dataclass(frozen=True)
class IvigProduct:
    name: str
    concentration_g_per_ml: SourcedValue
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
    alternative_interval_days: SourcedValue  # the other schedule the card names
    # the adult fixed regimen: the dose stated for adults (docs/clinical/dosing.md, rituximab)
    adult_dose_mg: SourcedValue
    adult_infusions: SourcedValue
    adult_interval_days: SourcedValue


@dataclass(frozen=True)
class EgfrPolicy:
    schwartz_k: SourcedValue  # bedside Schwartz: eGFR = k x height cm / creatinine mg/dL


@dataclass(frozen=True)
class CyclophosphamidePolicy:
    mg_per_m2_low: SourcedValue
    mg_per_m2_high: SourcedValue
    cap_mg: SourcedValue
    interval_weeks: SourcedValue


@dataclass(frozen=True)
class ContraceptionPolicy:
    """The numbers of the contraception note (bound by card texts; no arithmetic)."""

    rituximab_months_after: SourcedValue
    mycophenolate_weeks_after: SourcedValue
    mycophenolate_repeat_test_days_low: SourcedValue
    mycophenolate_repeat_test_days_high: SourcedValue


@dataclass(frozen=True)
class BsaPolicy:
    formula: str  # "Mosteller": the one implemented (cds_service.history.body)
    sources: tuple[str, ...]


@dataclass(frozen=True)
class OtherAgentDose:
    """A dose card texts quote for an agent the service does not calculate."""

    agent: str
    dose: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class DosingPolicy:
    version: str
    status: str
    sources: Mapping[str, str]  # citation key -> label (cards/sources.json + design default)
    rounding: Rounding
    weight: WeightPolicy
    ivig: IvigPolicy
    obesity: ObesityPolicy
    bsa: BsaPolicy
    egfr: EgfrPolicy
    rituximab: RituximabPolicy
    cyclophosphamide: CyclophosphamidePolicy
    contraception: ContraceptionPolicy
    other_agents: Mapping[str, OtherAgentDose]  # agent concept -> dose
