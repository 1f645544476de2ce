"""Observation -> :class:`Measurement` (canonical units) and :class:`CodedResult` (ABO group).

Only final, amended, corrected and preliminary results count (preliminary ones are flagged by
their status); registered, cancelled and unknown ones are skipped. The value is the
Observation's own, or that of the component whose code is the concept's (a vital-signs panel). A
weight coded as estimated (LOINC 8335-2) is marked so. A value that cannot be used becomes a
data-quality note saying why: no value, a unit with no exact conversion, a value outside the
plausible range of ``cards/history.json``, no effective time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from cds_service.history.dates import clock_zone, to_datetime
from cds_service.history.model import (
    CodedResult,
    DataQualityNote,
    MatchKind,
    Measurement,
    SourceRef,
)
from cds_service.history.parse import ParsedResource
from cds_service.history.units import convert, readable_unit
from cds_service.knowledge.concepts import (
    CANONICAL_UNITS,
    CodedResultConcept,
    concept_key,
    measurement_concept,
)
from cds_service.knowledge.history_policy import HistoryPolicy
from cds_service.knowledge.terminology import Terminology

COUNTING_STATUSES = frozenset({"final", "amended", "corrected", "preliminary"})
_ABO = re.compile(r"^(?:blood\s+)?(?:group\s+|type\s+)?(ab|a|b|o)(?![a-z])", re.IGNORECASE)


@dataclass(frozen=True)
class ObservationFacts:
    measurements: Mapping[str, tuple[Measurement, ...]]
    coded_results: tuple[CodedResult, ...]
    notes: tuple[DataQualityNote, ...]


def map_observations(
    observations: tuple[ParsedResource, ...],
    now: datetime,
    terminology: Terminology,
    policy: HistoryPolicy,
) -> ObservationFacts:
    zone = clock_zone(now)
    series: dict[str, list[Measurement]] = {}
    coded: list[CodedResult] = []
    notes: list[DataQualityNote] = []
    for parsed in observations:
        observation = parsed.model
        if observation.status not in COUNTING_STATUSES:
            continue
        at = _effective(observation, zone)
        for concept in sorted(parsed.concepts):
            if at is None:
                notes.append(_note(parsed, "no effective time", "other", concept))
            elif concept == "blood-group":
                result = _blood_group(parsed, at)
                if result is None:
                    notes.append(_note(parsed, "blood group not readable", "no-value", concept))
                else:
                    coded.append(result)
            elif concept in PRESENCE_CONCEPTS:
                presence = _presence(parsed, at, PRESENCE_CONCEPTS[concept])
                if presence is None:
                    what = PRESENCE_NAMES[concept]
                    notes.append(_note(parsed, f"{what} not readable", "no-value", concept))
                else:
                    coded.append(presence)
            else:
                value = _measurement(parsed, concept, at, notes, terminology, policy)
                if value is not None:
                    series.setdefault(concept, []).append(value)
    ordered = {
        concept: tuple(sorted(values, key=lambda m: (m.at, m.source)))
        for concept, values in sorted(series.items())
    }
    return ObservationFacts(
        measurements=MappingProxyType(ordered),
        coded_results=tuple(sorted(coded, key=lambda c: (c.at, c.source))),
        notes=tuple(notes),
    )


def _effective(observation: object, zone: tzinfo) -> datetime | None:
    for candidate in (
        getattr(observation, "effectiveDateTime", None),
        getattr(observation, "effectiveInstant", None),
        getattr(getattr(observation, "effectivePeriod", None), "start", None),
    ):
        at = to_datetime(candidate, zone)
        if at is not None:
            return at
    return None


def _measurement(
    parsed: ParsedResource,
    concept: str,
    at: datetime,
    notes: list[DataQualityNote],
    terminology: Terminology,
    policy: HistoryPolicy,
) -> Measurement | None:
    observation = parsed.model
    carrier = _carrier(observation, concept, terminology)  # the Observation or a component
    quantity = carrier.valueQuantity
    if quantity is not None and quantity.comparator is not None:
        reason = f"value is a bound ('{quantity.comparator}'), not a measured value"
        notes.append(_note(parsed, reason, "no-value", concept, at))
        return None
    if quantity is not None and quantity.value is not None:
        raw_value, unit_code, unit_text = Decimal(quantity.value), quantity.code, quantity.unit
        if quantity.code is not None and quantity.system not in (None, "http://unitsofmeasure.org"):
            unit_code = None  # a non-UCUM code says nothing UCUM can convert; use the text
    elif getattr(carrier, "valueInteger", None) is not None:
        raw_value, unit_code, unit_text = Decimal(carrier.valueInteger), None, None
    else:
        notes.append(_note(parsed, "no numeric value", "no-value", concept, at))
        return None
    concept = measurement_concept(concept)
    recorded_unit = readable_unit(unit_text or unit_code or "")  # as a clinician reads it
    if not raw_value.is_finite():
        notes.append(_note(parsed, "value is not a finite number", "implausible", concept, at))
        return None
    value = convert(concept, raw_value, unit_code, unit_text)
    if value is None:
        reason = f"unit '{recorded_unit}' cannot be converted to {CANONICAL_UNITS[concept]}"
        notes.append(_note(parsed, reason, "unit", concept, at))
        return None
    low_limit, high_limit = policy.plausible_ranges.get(concept, (Decimal(0), None))
    if value < low_limit or (high_limit is not None and value > high_limit):
        limits = f"{low_limit}-{high_limit}" if high_limit is not None else f">= {low_limit}"
        reason = f"value outside the plausible range ({limits} {CANONICAL_UNITS[concept]})"
        notes.append(_note(parsed, reason, "implausible", concept, at))
        return None
    low, high = _reference_range(observation, concept)
    return Measurement(
        concept=concept,
        value=value,
        unit=CANONICAL_UNITS[concept],
        at=at,
        status=str(observation.status),
        reference_low=low,
        reference_high=high,
        original=f"{raw_value} {recorded_unit}".strip(),
        source=SourceRef("Observation", parsed.resource_id or ""),
        matched_by=parsed.matched_by or MatchKind.CODE,
        estimated=_estimated(carrier.code, terminology),
    )


def _carrier(observation: Any, concept: str, terminology: Terminology) -> Any:
    """The element holding the concept's value: the Observation, unless only one of its
    components is coded as the concept."""
    if concept in _codes_concepts(observation.code, terminology) or not observation.component:
        return observation
    for component in observation.component:
        if concept in _codes_concepts(component.code, terminology):
            return component
    return observation


def _codes_concepts(codeable: Any, terminology: Terminology) -> set[str]:
    return {
        found
        for coding in getattr(codeable, "coding", None) or []
        if coding.system and coding.code
        for found in terminology.concepts_for(coding.system, coding.code)
    }


def _estimated(codeable: Any, terminology: Terminology) -> bool:
    """Any coding of the code is an estimated measurement (a weight 'estimated', not weighed)."""
    return any(
        entry.estimated
        for coding in getattr(codeable, "coding", None) or []
        if coding.system and coding.code
        for entry in terminology.code_entries(coding.system, coding.code)
    )


def _reference_range(observation: object, concept: str) -> tuple[Decimal | None, Decimal | None]:
    ranges = getattr(observation, "referenceRange", None) or []
    if not ranges:
        return None, None
    bounds: list[Decimal | None] = []
    for quantity in (ranges[0].low, ranges[0].high):
        if quantity is None or quantity.value is None:
            bounds.append(None)
            continue
        code = quantity.code if quantity.system in (None, "http://unitsofmeasure.org") else None
        bounds.append(convert(concept, Decimal(quantity.value), code, quantity.unit))
    return bounds[0], bounds[1]


POSITIVE_WORDS = frozenset({"positive", "detected", "pos", "present"})
NEGATIVE_WORDS = frozenset({"negative", "not detected", "neg", "absent"})
POSITIVE_CODES = frozenset({"10828004", "260373001", "POS"})  # SNOMED positive / detected; v3
NEGATIVE_CODES = frozenset({"260385009", "260415000", "NEG"})  # SNOMED negative / not detected


# the qualitative results read as positive or negative, and how a data-quality note names them
PRESENCE_CONCEPTS: Mapping[str, CodedResultConcept] = {
    "pregnancy-test": "pregnancy-test",
    "anti-iga": "anti-iga",
    "anti-mda5": "anti-mda5",
}
PRESENCE_NAMES = {
    "pregnancy-test": "pregnancy test",
    "anti-iga": "anti-IgA antibody result",
    "anti-mda5": "anti-MDA5 antibody result",
}
# antibody results whose quantity reads against the lab's upper limit (ELISA in U/mL)
UPPER_LIMIT_CONCEPTS = frozenset({"anti-iga", "anti-mda5"})
# an antibody reported only by its interpretation: high or abnormal is positive, normal negative
# (HL7 v3 ObservationInterpretation H, HH, A, AA, N)
ANTIBODY_INTERPRETATION = frozenset({"anti-mda5"})
POSITIVE_INTERPRETATIONS = frozenset({"H", "HH", "A", "AA"})
NEGATIVE_INTERPRETATIONS = frozenset({"N"})


def _presence(
    parsed: ParsedResource, at: datetime, concept: CodedResultConcept
) -> CodedResult | None:
    """A qualitative result (pregnancy test, anti-IgA antibodies): ``positive`` or ``negative``,
    else None (unread). A quantity with the lab's upper limit reads as positive above it and
    negative at or under it (anti-IgA by ELISA is reported in U/mL)."""
    observation = parsed.model
    codes: list[str] = []
    words: list[str] = []
    if observation.valueString:
        words.append(observation.valueString)
    value = observation.valueCodeableConcept
    if value is not None:
        codes += [c.code for c in value.coding or [] if c.code]
        words += [c.display for c in value.coding or [] if c.display]
        words += [value.text] if value.text else []
    interpreted: set[str] = set()
    for interpretation in observation.interpretation or []:
        codes += [c.code for c in interpretation.coding or [] if c.code]
        interpreted |= {c.code for c in interpretation.coding or [] if c.code}
    said = {w.strip().lower() for w in words}
    positive = bool(said & POSITIVE_WORDS or set(codes) & POSITIVE_CODES)
    negative = bool(said & NEGATIVE_WORDS or set(codes) & NEGATIVE_CODES)
    if concept in ANTIBODY_INTERPRETATION and not positive and not negative:
        positive = bool(interpreted & POSITIVE_INTERPRETATIONS)
        negative = bool(interpreted & NEGATIVE_INTERPRETATIONS)
    above = _above_upper_limit(observation) if concept in UPPER_LIMIT_CONCEPTS else None
    if above is not None and not positive and not negative:
        positive, negative = above, not above
    if positive == negative:  # neither, or both: not read
        return None
    verdict = "positive" if positive else "negative"
    return CodedResult(
        concept=concept,
        value=verdict,
        display=verdict,
        at=at,
        source=SourceRef("Observation", parsed.resource_id or ""),
    )


def _above_upper_limit(observation: Any) -> bool | None:
    """Whether a quantity is above the lab's upper limit in the same unit; None when it cannot
    be told (no quantity, no upper limit, another unit)."""
    quantity = observation.valueQuantity
    if quantity is None or quantity.value is None:
        return None
    for limit in observation.referenceRange or []:
        high = limit.high
        if high is None or high.value is None:
            continue
        if (high.code or high.unit) not in (None, quantity.code or quantity.unit):
            return None
        return Decimal(quantity.value) > Decimal(high.value)
    return None


def _blood_group(parsed: ParsedResource, at: datetime) -> CodedResult | None:
    observation = parsed.model
    texts: list[str] = []
    if observation.valueString:
        texts.append(observation.valueString)
    concept_value = observation.valueCodeableConcept
    if concept_value is not None:
        texts.extend(c.display for c in concept_value.coding or [] if c.display)
        if concept_value.text:
            texts.append(concept_value.text)
    for text in texts:
        match = _ABO.match(text.strip())
        if match:
            return CodedResult(
                concept="blood-group",
                value=match.group(1).upper(),
                display=text,
                at=at,
                source=SourceRef("Observation", parsed.resource_id or ""),
            )
    return None


def _note(
    parsed: ParsedResource, reason: str, category: str, concept: str, at: datetime | None = None
) -> DataQualityNote:
    return DataQualityNote(
        "Observation", parsed.resource_id, reason, category, concept_key(concept), at
    )
