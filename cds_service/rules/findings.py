"""What a rule returns: a finding with the facts a card (and an auditor) needs, and no prose.

A finding says which card topic fired, which indicator case applies (the words and the indicator
live in ``cards/card-texts.json``), and exactly why: the resources used, the facts read from
them (values with dates), the thresholds compared, any dose, the safety checks that fired, and a
topic-specific ``subject`` holding the structured facts the card builder turns into sentences.
Cards are built from findings; nothing in a card is worked out again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from cds_service.history.model import Measurement, SourceRef
from cds_service.knowledge.thresholds import Threshold


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
    "methotrexate-schedule",
    "severe-organ-disease",
    "ivig-start",
    "ivig-course-due",
    "ivig-contraindicated",
    "weight-needed",
    "first-line-window",
    "dysphagia-aspiration",
    "ivig-safety-iga-deficiency",
    "ivig-safety-anti-iga",
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


# Why a safety check fired, as facts; the card builder words each kind (card-texts phrases).
ReasonKind = Literal[
    "allergy",  # text: the allergy's recorded reaction
    "problem",  # text: the Condition's display
    "renal-problem",  # text: the display of a renal-impairment Condition
    "iga-problem-list",
    "iga-below-range",  # measurement (under its reference_low, not under the threshold), threshold
    "iga-below-threshold",  # measurement, threshold
    "iga-unknown",
    "anti-iga",  # at: the date of the positive anti-IgA antibody result
    "renal-unknown",
    "egfr-low",  # measurement, threshold
    "egfr-schwartz",  # measurement (the bedside estimate), inputs (height, creatinine), threshold
    "creatinine-unjudged",  # measurement: a creatinine nothing on record lets the service judge
    "creatinine-high",  # measurement (its reference_high)
    "creatinine-rise",  # measurement, baseline, threshold (the ratio)
    "risk-factor",  # concept: a thrombosis risk factor
    "blood-group",  # text: the group
    "blood-group-unknown",
    "vaccine",  # text: the vaccine, at
    "vaccine-repeat",  # text: the vaccine, at (within the repeat window before IVIG)
    "vaccine-immunosuppressed",  # text: the vaccine, at, concept: the agents ("a+b")
    "vaccine-deferral",
    "migraine",
]


@dataclass(frozen=True)
class CheckReason:
    kind: ReasonKind
    text: str | None = None
    concept: str | None = None
    measurement: Measurement | None = None
    baseline: Measurement | None = None
    threshold: ThresholdUse | None = None
    at: datetime | None = None
    inputs: tuple[Measurement, ...] = ()  # what an estimate was made from (height, creatinine)


@dataclass(frozen=True)
class SafetyCheckResult:
    """A safety check that fired (docs/clinical/safety.md), with what it was based on.

    ``effect`` comes from ``cards/card-texts.json`` (safetyChecks.<code>.effect).
    """

    code: str
    effect: Effect
    reasons: tuple[CheckReason, ...]
    resources: tuple[SourceRef, ...] = ()
    facts: tuple[Fact, ...] = ()
    thresholds: tuple[ThresholdUse, ...] = ()


@dataclass(frozen=True)
class Finding:
    topic: str
    rule_id: str
    indicator_case: str = "default"  # which of the topic's indicators (card-texts.json) applies
    resources: tuple[SourceRef, ...] = ()
    facts: tuple[Fact, ...] = ()
    thresholds: tuple[ThresholdUse, ...] = ()
    dose: Any = None  # IvigDose / RituximabDose from cds_service.dosing, when the card states one
    safety_checks: tuple[SafetyCheckResult, ...] = ()
    subject: Any = None  # the topic's structured facts (a dataclass of the rule's module)
    summary_variant: str = "default"
    suggest: tuple[str, ...] = ()  # suggestion kinds the card builder should draft
    note_keys: tuple[str, ...] = ()  # keyed paragraphs of the topic's text to add
    source_keys: tuple[str, ...] = ()  # sources cited by those paragraphs (the card lists them)

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
