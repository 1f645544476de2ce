"""What a rule returns: a finding with the evidence a card (and an auditor) needs.

A finding says which card topic fired, at what indicator, and exactly why: the resources used,
the facts read from them (values with dates), the thresholds compared, any dose, and, for
``ivig-start``, the safety checks that fired. Cards are built from findings; nothing in a card
is worked out again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from cds_service.history.model import MatchKind, Measurement, SourceRef
from cds_service.knowledge.loader import Threshold


class Indicator(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Effect(StrEnum):
    HARD_STOP = "hard-stop"
    WARNING = "warning"
    NOTE = "note"


# Topic order of the card contract: cards sort by indicator, then by this order.
TOPIC_ORDER: tuple[str, ...] = (
    "ivig-start",
    "weight-needed",
    "first-line-window",
    "dysphagia-aspiration",
    "ivig-safety-iga-deficiency",
    "ivig-safety-renal",
    "ivig-safety-thrombosis",
    "ivig-safety-cardiac-fluid",
    "ivig-monitoring-due",
    "escalate-after-ivig",
    "extramuscular-screen",
    "steroid-taper",
    "data-quality",
)


@dataclass(frozen=True)
class Fact:
    """One value a rule read, e.g. ``Fact("weight_kg", "26", "kg", at, SourceRef(...))``."""

    name: str
    value: str
    unit: str | None = None
    at: datetime | None = None
    source: SourceRef | None = None

    @classmethod
    def of(cls, name: str, measurement: Measurement) -> Fact:
        return cls(
            name, str(measurement.value), measurement.unit, measurement.at, measurement.source
        )


@dataclass(frozen=True)
class ThresholdUse:
    """A threshold from cards/thresholds.json that a rule compared a value with."""

    name: str
    value: Decimal
    unit: str
    comparison: str
    source_key: str

    @classmethod
    def of(cls, threshold: Threshold) -> ThresholdUse:
        return cls(
            threshold.name, threshold.value, threshold.unit, threshold.comparison, threshold.source
        )


@dataclass(frozen=True)
class SafetyCheckResult:
    """A safety check from safety.md that fired, with what it was based on."""

    code: str
    effect: Effect
    detail: str  # short, PHI-free, e.g. "eGFR 52 mL/min/1.73m2 on 2026-03-01"
    resources: tuple[SourceRef, ...] = ()
    facts: tuple[Fact, ...] = ()
    thresholds: tuple[ThresholdUse, ...] = ()


@dataclass(frozen=True)
class Finding:
    topic: str
    indicator: Indicator
    rule_id: str
    resources: tuple[SourceRef, ...] = ()
    facts: tuple[Fact, ...] = ()
    thresholds: tuple[ThresholdUse, ...] = ()
    dose: Any = None  # IvigDose / RituximabDose from cds_service.dosing, when the card states one
    dose_evidence: Mapping[str, Any] | None = None  # the contract's dose object (JSON-ready)
    safety_checks: tuple[SafetyCheckResult, ...] = ()
    matched_by_name: tuple[SourceRef, ...] = ()
    # template values for the card texts (summary variant, placeholders)
    texts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    summary_variant: str = "default"
    suggest: tuple[str, ...] = ()  # suggestion kinds the card builder should draft
    notes: tuple[str, ...] = ()  # extra Markdown lines for the detail's recommendation

    def all_resources(self) -> tuple[str, ...]:
        """Every resource used (sorted, unique references), safety checks and facts included."""
        refs: set[SourceRef] = set(self.resources)
        refs.update(f.source for f in self.facts if f.source is not None)
        for check in self.safety_checks:
            refs.update(check.resources)
            refs.update(f.source for f in check.facts if f.source is not None)
        return tuple(sorted(ref.reference for ref in refs))


def unique_refs(refs: Iterable[SourceRef]) -> tuple[SourceRef, ...]:
    return tuple(sorted(set(refs)))


def name_matched(sources: Iterable[tuple[MatchKind, SourceRef]]) -> tuple[SourceRef, ...]:
    return unique_refs(ref for kind, ref in sources if kind is MatchKind.NAME)
