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

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from cds_service.history.dates import to_datetime
from cds_service.history.dosage import (
    DoseSpec,
    Timing,
    read_dose,
    read_timing,
    route_of,
    strength_of,
)
from cds_service.history.model import DataQualityNote, MatchKind, SourceRef
from cds_service.history.parse import ParsedResource
from cds_service.knowledge.concepts import concept_key
from cds_service.knowledge.history_policy import HistoryPolicy
from cds_service.knowledge.terminology import Terminology, normalise_text

GLUCOCORTICOID_INGREDIENTS = ("methylprednisolone", "prednisolone", "prednisone")


@dataclass(frozen=True)
class MedicationUse:
    """One agent in one medication resource (one dosage instruction of it)."""

    agent: str
    ingredient: str | None  # for prednisolone-equivalence
    resource_type: str
    status: str
    route: str | None
    dose: DoseSpec | None
    dose_problem: str | None  # why a stated dose could not be read as a mass
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
    strength = strength_of(parsed.medication, medication_text(parsed))
    for dosage in _dosages(parsed):
        route = route_of(getattr(dosage, "route", None), policy)
        for concept in sorted(parsed.concepts):
            agent, ingredient, reason = _classify(parsed, concept, route, terminology, policy)
            if agent is None:
                if reason == UNKNOWN_ROUTE:
                    notes.append(_unknown_route_note(parsed, source, zone))
                else:
                    at = record_time(parsed, zone)
                    notes.append(_note(source, reason or "not counted", concept, at))
                continue
            reading = read_dose(dosage, strength)
            uses.append(
                MedicationUse(
                    agent=agent,
                    ingredient=ingredient,
                    resource_type=parsed.resource_type,
                    status=str(parsed.model.status),
                    route=route,
                    dose=reading.spec,
                    dose_problem=reading.problem,
                    dose_text=str(getattr(dosage, "text", None) or ""),
                    timing=read_timing(getattr(dosage, "timing", None), zone),
                    matched_by=parsed.matched_by or MatchKind.CODE,
                    source=source,
                    model=parsed.model,
                )
            )
    if uses and _undatable(parsed):
        reason = "given on a date the record does not hold: not counted"
        notes.append(_note(source, reason, uses[0].agent, None))
    return uses, notes


def _undatable(parsed: ParsedResource) -> bool:
    """An administration with no date (R4 lets it be absent) and no time it was recorded."""
    model = parsed.model
    return (
        parsed.resource_type == "MedicationAdministration"
        and model.effectiveDateTime is None
        and model.effectivePeriod is None
        and getattr(model.meta, "lastUpdated", None) is None
    )


def _dosages(parsed: ParsedResource) -> list[Any]:
    model = parsed.model
    if parsed.resource_type == "MedicationAdministration":
        return [model.dosage]  # may be None: a given dose without dose details
    if parsed.resource_type == "MedicationRequest":
        return list(model.dosageInstruction or []) or [None]
    return list(model.dosage or []) or [None]


def _classify(
    parsed: ParsedResource,
    concept: str,
    route: str | None,
    terminology: Terminology,
    policy: HistoryPolicy,
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
    if concept == "ivig":
        return _immune_globulin(parsed, route, entry, policy)
    if concept == "glucocorticoid-oral":
        if route not in (None, "oral"):
            return None, None, f"glucocorticoid by the {route} route: not an oral dose"
        ingredient = entry.ingredient if entry and entry.ingredient else _ingredient_from(parsed)
        if ingredient is None:
            return None, None, "glucocorticoid ingredient not identified"
        return concept, ingredient, None
    return concept, None, None


# why an immune globulin record is not counted as IVIG: the category its note gets
UNKNOWN_ROUTE = "route"


def _immune_globulin(
    parsed: ParsedResource, route: str | None, entry: Any, policy: HistoryPolicy
) -> tuple[str | None, str | None, str | None]:
    """IVIG only when given intravenously: by its route, an IV-only product code, or a name
    that says intravenous (cards/history.json immune_globulin_routes)."""
    if route == "intravenous":
        return "ivig", None, None
    if route is not None:
        return None, None, f"immune globulin given by the {route} route: not IVIG"
    if entry is not None and entry.route_required is None:
        # a product for intravenous use only, or a code whose own name says intravenous
        if entry.product or _says_intravenous(entry.display, policy):
            return "ivig", None, None
    if _says_intravenous(medication_text(parsed), policy):
        return "ivig", None, None  # "Privigen", "... intravenous solution", "IVIG infusion"
    return None, None, UNKNOWN_ROUTE


def _says_intravenous(name: str, policy: HistoryPolicy) -> bool:
    text = normalise_text(name)
    if any(f" {ig_name} " in text for ig_name in policy.intravenous_ig_names):
        return True
    return any(f" {w} " in text for w, r in policy.route_names.items() if r == "intravenous")


def _unknown_route_note(parsed: ParsedResource, source: SourceRef, zone: tzinfo) -> DataQualityNote:
    """Immune globulin with no route: maybe IVIG. Dated by the record (None while in force), so
    the IVIG draft is withheld while it is recent (rules/context.unread_infusions)."""
    reason = "immune globulin with no route recorded: not counted as IVIG"
    return DataQualityNote(
        source.resource_type,
        source.resource_id,
        reason,
        UNKNOWN_ROUTE,
        "ivig",
        record_time(parsed, zone),
    )


def record_time(parsed: ParsedResource, zone: tzinfo) -> datetime | None:
    """The last date a medication record speaks of; None while it is in force (it is current)."""
    model = parsed.model
    if str(model.status) in ("active", "on-hold", "in-progress"):
        return None
    period = getattr(model, "effectivePeriod", None)
    return (
        to_datetime(getattr(model, "effectiveDateTime", None), zone)
        or to_datetime(getattr(period, "end", None) or getattr(period, "start", None), zone)
        or to_datetime(getattr(model, "authoredOn", None), zone)
        or to_datetime(getattr(model, "dateAsserted", None), zone)
        or to_datetime(getattr(model.meta, "lastUpdated", None) if model.meta else None, zone)
    )


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


def _note(source: SourceRef, reason: str, concept: str, at: datetime | None) -> DataQualityNote:
    return DataQualityNote(
        source.resource_type, source.resource_id, reason, "other", concept_key(concept), at
    )
