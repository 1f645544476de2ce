"""Medication resources -> what each one says about one agent: when, which route, what dose.

The agent comes from the value set the medication's code (or name) matched. Two agents need
the route as well as the code:

* methylprednisolone: IV (``methylprednisolone-iv``) when the route is intravenous, or when the
  product is an injection and no other route is stated; oral methylprednisolone is an oral
  glucocorticoid; with no route and no product form it is not counted (a note says so);
* prednisone/prednisolone: counted as oral unless another route is stated.

A topical route (tacrolimus ointment, ...) takes a dose out of the systemic history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from cds_service.history.dates import to_datetime
from cds_service.history.model import DataQualityNote, MatchKind, SourceRef
from cds_service.history.parse import ParsedResource
from cds_service.knowledge.concepts import concept_key
from cds_service.knowledge.history_policy import HistoryPolicy
from cds_service.knowledge.terminology import Terminology, normalise_text

_DOSE_UNIT = re.compile(r"^(mg|g|ug|mcg)(?:/(kg|m2))?(?:/(d|day))?$")
_DAYS_PER_UNIT: dict[str, Decimal] = {
    "s": Decimal(1) / 86400,
    "min": Decimal(1) / 1440,
    "h": Decimal(1) / 24,
    "d": Decimal(1),
}
GTS_ABBREVIATION = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
# the code system's own definitions: (doses per day, weekly)
SCHEDULE_CODES: dict[str, tuple[Decimal | None, bool]] = {
    "QD": (Decimal(1), False),
    "AM": (Decimal(1), False),
    "PM": (Decimal(1), False),
    "BID": (Decimal(2), False),
    "TID": (Decimal(3), False),
    "QID": (Decimal(4), False),
    "Q4H": (Decimal(6), False),
    "Q6H": (Decimal(4), False),
    "QOD": (Decimal("0.5"), False),
    "WK": (None, True),
}
GLUCOCORTICOID_INGREDIENTS = ("methylprednisolone", "prednisolone", "prednisone")


@dataclass(frozen=True)
class DoseSpec:
    """A dose quantity as written: ``30 mg/kg``, ``1 g``, ``15 mg/m2``, ``2 mg/kg/d``."""

    value: Decimal
    mass_unit: str  # mg | g | ug
    per: str | None  # kg | m2 | None
    per_day: bool
    as_written: str


@dataclass(frozen=True)
class Timing:
    """One dosage instruction's schedule."""

    doses_per_day: Decimal | None  # None when not a daily/hourly schedule
    weekly: bool  # once every 7 days
    start: datetime | None  # bounds start
    end: datetime | None  # bounds end


@dataclass(frozen=True)
class MedicationUse:
    """One agent in one medication resource (one dosage instruction of it)."""

    agent: str
    ingredient: str | None  # for prednisolone-equivalence
    resource_type: str
    status: str
    route: str | None
    dose: DoseSpec | None
    dose_text: str  # dosage text when there is no structured dose
    timing: Timing
    matched_by: MatchKind
    source: SourceRef
    model: Any  # the validated resource (for order-specific fields)


def uses_of(
    parsed: ParsedResource, terminology: Terminology, policy: HistoryPolicy, zone: tzinfo
) -> tuple[list[MedicationUse], list[DataQualityNote]]:
    """Every (agent, dosage) the resource speaks of, with notes for what was left out."""
    uses: list[MedicationUse] = []
    notes: list[DataQualityNote] = []
    source = SourceRef(parsed.resource_type, parsed.resource_id or "")
    for dosage in _dosages(parsed):
        route = route_of(getattr(dosage, "route", None), policy)
        for concept in sorted(parsed.concepts):
            agent, ingredient, reason = _classify(parsed, concept, route, terminology)
            if agent is None:
                notes.append(_note(source, reason or "not counted", concept))
                continue
            uses.append(
                MedicationUse(
                    agent=agent,
                    ingredient=ingredient,
                    resource_type=parsed.resource_type,
                    status=str(parsed.model.status),
                    route=route,
                    dose=dose_spec(_dose_quantity(dosage)),
                    dose_text=str(getattr(dosage, "text", None) or ""),
                    timing=_timing(getattr(dosage, "timing", None), zone),
                    matched_by=parsed.matched_by or MatchKind.CODE,
                    source=source,
                    model=parsed.model,
                )
            )
    return uses, notes


def _dosages(parsed: ParsedResource) -> list[Any]:
    model = parsed.model
    if parsed.resource_type == "MedicationAdministration":
        return [model.dosage]  # may be None: a given dose without dose details
    if parsed.resource_type == "MedicationRequest":
        return list(model.dosageInstruction or []) or [None]
    return list(model.dosage or []) or [None]


def _classify(
    parsed: ParsedResource, concept: str, route: str | None, terminology: Terminology
) -> tuple[str | None, str | None, str | None]:
    """(agent, glucocorticoid ingredient, reason when not counted)."""
    if route == "topical":
        return None, None, "topical route: not systemic therapy"
    entry = _code_entry(parsed, concept, terminology)
    if concept == "methylprednisolone-iv":
        form = entry.dose_form if entry else _form_from_name(parsed)
        if route == "intravenous" or (route is None and form == "injection"):
            return concept, "methylprednisolone", None
        if route == "oral":
            return "glucocorticoid-oral", "methylprednisolone", None
        if route is None:
            return None, None, "methylprednisolone without a route or an injection product"
        return None, None, f"methylprednisolone by the {route} route: not counted as IV"
    if concept == "glucocorticoid-oral":
        if route not in (None, "oral"):
            return None, None, f"glucocorticoid by the {route} route: not an oral dose"
        ingredient = entry.ingredient if entry and entry.ingredient else _ingredient_from(parsed)
        if ingredient is None:
            return None, None, "glucocorticoid ingredient not identified"
        return concept, ingredient, None
    return concept, None, None


def _code_entry(parsed: ParsedResource, concept: str, terminology: Terminology) -> Any:
    if parsed.matched_code is None:
        return None
    system, _, code = parsed.matched_code.partition("|")
    return next((e for e in terminology.code_entries(system, code) if e.concept == concept), None)


def medication_text(parsed: ParsedResource) -> str:
    """The medication's words: code text and displays, of the resolved Medication or the concept."""
    codeable = getattr(parsed.medication, "code", None) or getattr(
        parsed.model, "medicationCodeableConcept", None
    )
    if codeable is None:
        return ""
    words = [codeable.text or ""] + [c.display or "" for c in codeable.coding or []]
    return " ; ".join(w for w in words if w)


def _form_from_name(parsed: ParsedResource) -> str | None:
    text = normalise_text(medication_text(parsed))
    if " solu medrol " in text or " injection " in text or " injectable " in text:
        return "injection"
    return None


def _ingredient_from(parsed: ParsedResource) -> str | None:
    text = normalise_text(medication_text(parsed))
    return next((name for name in GLUCOCORTICOID_INGREDIENTS if f" {name} " in text), None)


def route_of(codeable: Any, policy: HistoryPolicy) -> str | None:
    """The route a Dosage.route states, by code first, then by its words; None when unknown."""
    if codeable is None:
        return None
    for coding in codeable.coding or []:
        route = policy.route_codes.get(f"{coding.system}|{coding.code}")
        if route:
            return route
    words = [codeable.text or ""] + [c.display or "" for c in codeable.coding or []]
    text = normalise_text(" ; ".join(words))
    for name, route in policy.route_names.items():
        if f" {name} " in text:
            return route
    return None


def _dose_quantity(dosage: Any) -> Any:
    if dosage is None:
        return None
    if hasattr(dosage, "dose"):  # MedicationAdministration.dosage
        return dosage.dose
    for dose_and_rate in dosage.doseAndRate or []:
        if dose_and_rate.doseQuantity is not None:
            return dose_and_rate.doseQuantity
    return None


def dose_spec(quantity: Any) -> DoseSpec | None:
    """A Quantity as a dose in a mass unit, optionally per kg or m2 (and per day); else None."""
    if quantity is None or quantity.value is None:
        return None
    unit = quantity.code or quantity.unit or ""
    normalised = unit.strip().replace("(kg.d)", "kg/d").replace("(m2.d)", "m2/d")
    match = _DOSE_UNIT.match(normalised)
    if not match:
        return None
    try:
        value = Decimal(quantity.value)
    except InvalidOperation:
        return None
    mass, per, day = match.groups()
    return DoseSpec(
        value=value,
        mass_unit="ug" if mass == "mcg" else mass,
        per=per,
        per_day=day is not None,
        as_written=f"{value} {quantity.unit or unit}",
    )


def _timing(timing: Any, zone: tzinfo) -> Timing:
    repeat = getattr(timing, "repeat", None)
    coded = _coded_schedule(getattr(timing, "code", None))
    if repeat is None:
        return Timing(coded[0], coded[1], None, None) if coded else Timing(None, False, None, None)
    bounds = repeat.boundsPeriod
    start = to_datetime(getattr(bounds, "start", None), zone)
    end = to_datetime(getattr(bounds, "end", None), zone)
    if repeat.period is None and coded:
        return Timing(coded[0], coded[1], start, end)
    frequency = Decimal(int(repeat.frequency or 1))
    period = Decimal(repeat.period) if repeat.period is not None else None
    unit = repeat.periodUnit
    weekly = (
        period is not None
        and frequency == 1
        and ((unit == "wk" and period == 1) or (unit == "d" and period == 7))
    )
    per_day: Decimal | None = None
    if period is not None and period > 0 and unit in _DAYS_PER_UNIT:
        per_day = frequency / (period * _DAYS_PER_UNIT[unit])
    return Timing(per_day, weekly, start, end)


def _coded_schedule(codeable: Any) -> tuple[Decimal | None, bool] | None:
    """(doses per day, weekly) of an HL7 v3 GTSAbbreviation Timing.code (BID, QD, WK...)."""
    for coding in getattr(codeable, "coding", None) or []:
        if coding.system == GTS_ABBREVIATION and coding.code in SCHEDULE_CODES:
            return SCHEDULE_CODES[coding.code]
    return None


def _note(source: SourceRef, reason: str, concept: str) -> DataQualityNote:
    return DataQualityNote(
        source.resource_type, source.resource_id, reason, "other", concept_key(concept)
    )
