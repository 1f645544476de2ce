"""One draft MedicationRequest read as the checks need it: drug, dose, schedule, days, start.

The order goes through the same reading as the therapy history (value sets by code or name, the
route rules of :mod:`cds_service.history.medications`, the Dosage reading of
:mod:`cds_service.history.dosage`), so a drug the history recognises is the drug the checks
recognise. Only the agents with an order check are returned; any other drug is not ours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from cds_service.history.dates import to_datetime
from cds_service.history.dosage import DoseSpec, Strength, Timing, strength_of
from cds_service.history.medications import MedicationUse, medication_text, uses_of
from cds_service.history.parse import ParsedResource, parse_resources
from cds_service.knowledge.loader import Knowledge

# agent -> the ingredient it must have (None: any)
CHECKED_AGENTS: Mapping[str, frozenset[str] | None] = {
    "methotrexate": None,
    "ivig": None,
    "rituximab": None,
    "methylprednisolone-iv": None,
    "glucocorticoid-oral": frozenset({"prednisolone", "prednisone"}),
}
_DURATION_DAYS = {"d": Decimal(1), "wk": Decimal(7), "h": Decimal(1) / 24}
PLACEHOLDER_ID = "draft-order"
READ_ELEMENTS = (
    "resourceType",
    "contained",
    "medicationCodeableConcept",
    "medicationReference",
    "authoredOn",
    "dosageInstruction",
)  # the id an order without one is read under (never shown)


@dataclass(frozen=True)
class OrderReading:
    order: Mapping[str, Any]  # the draft as the client sent it
    order_id: str | None
    agent: str  # methotrexate | ivig | rituximab | methylprednisolone-iv | glucocorticoid-oral
    ingredient: str | None  # prednisolone | prednisone for an oral glucocorticoid
    drug: str  # the product's words, for the card ("Methotrexate 2.5 MG Oral Tablet")
    dose: DoseSpec | None  # one administration
    dose_problem: str | None  # why a stated dose could not be read as a mass
    strength: Strength | None
    dose_unit: str | None  # the unit the order's dose was written in ("{pill}", "mL", "mg/kg")
    timing: Timing
    days: int | None  # days of an IVIG course: count, boundsDuration or boundsPeriod
    start: datetime | None  # bounds start, else authoredOn

    @property
    def per_week(self) -> Decimal | None:
        """Administrations a week (the more frequent reading); None when not stated."""
        return self.timing.per_week

    @property
    def doses_per_day(self) -> Decimal:
        """Administrations a day for a daily dose: 1 unless the schedule says more a day."""
        per_day = self.timing.doses_per_day
        return per_day if per_day is not None and per_day > 1 else Decimal(1)


def read_orders(
    drafts: Sequence[Mapping[str, Any]],
    bundle: Sequence[Mapping[str, Any]],
    patient_id: str,
    knowledge: Knowledge,
    now: datetime,
) -> list[OrderReading]:
    """Each draft that orders one of our agents, read; the others are left out."""
    medications = [r for r in bundle if r.get("resourceType") == "Medication"]
    readings = []
    for draft in drafts:
        reading = read_order(draft, medications, patient_id, knowledge, now)
        if reading is not None:
            readings.append(reading)
    return readings


def read_order(
    draft: Mapping[str, Any],
    medications: Sequence[Mapping[str, Any]],
    patient_id: str,
    knowledge: Knowledge,
    now: datetime,
) -> OrderReading | None:
    zone = now.tzinfo
    assert zone is not None  # noqa: S101 - the pipeline's clock is timezone-aware
    order_id = draft.get("id") if isinstance(draft.get("id"), str) else None
    # only what the checks read: a malformed element they never use (the CDS Hooks Sandbox
    # sends `category` as one object, not a list) must not cost the order its checks
    resource = {key: draft[key] for key in READ_ELEMENTS if key in draft} | {
        "id": order_id or PLACEHOLDER_ID,
        # a draft is this patient's order whatever subject it names (or none), and is read as
        # the order it becomes when signed (the history reads no draft or proposal)
        "subject": {"reference": f"Patient/{patient_id}"},
        "status": "active",
        "intent": "order",
    }
    reading = _read(draft, resource, medications, patient_id, knowledge, zone)
    if reading is None and "dosageInstruction" in resource:
        # a dosage the FHIR model refuses: the drug is still checked for what can be checked
        # (a methotrexate order with no readable schedule gets the frequency warning)
        del resource["dosageInstruction"]
        reading = _read(draft, resource, medications, patient_id, knowledge, zone)
        if reading is not None:
            return replace(reading, dose_problem=UNREADABLE_DOSAGE)
    return reading


UNREADABLE_DOSAGE = "the dosage instruction is not valid FHIR"


def _read(
    draft: Mapping[str, Any],
    resource: Mapping[str, Any],
    medications: Sequence[Mapping[str, Any]],
    patient_id: str,
    knowledge: Knowledge,
    zone: tzinfo,
) -> OrderReading | None:
    entries = [{"resource": resource}] + [{"resource": m} for m in medications]
    record = parse_resources(
        [{"resourceType": "Bundle", "type": "collection", "entry": entries}],
        patient_id,
        terminology=knowledge.terminology,
    )
    order_id = draft.get("id") if isinstance(draft.get("id"), str) else None
    for parsed in record.of_type("MedicationRequest"):
        uses, _ = uses_of(parsed, knowledge.terminology, knowledge.history_policy, zone)
        for use in uses:
            wanted = CHECKED_AGENTS.get(use.agent, frozenset())
            if use.agent in CHECKED_AGENTS and (wanted is None or use.ingredient in wanted):
                return _reading(draft, order_id, parsed, use, zone)
    return None


def _reading(
    draft: Mapping[str, Any],
    order_id: str | None,
    parsed: ParsedResource,
    use: MedicationUse,
    zone: tzinfo,
) -> OrderReading:
    dosage = _first_dosage(draft)
    timing = use.timing
    start = timing.start or to_datetime(getattr(parsed.model, "authoredOn", None), zone)
    return OrderReading(
        order=draft,
        order_id=order_id,
        agent=use.agent,
        ingredient=use.ingredient,
        drug=medication_text(parsed).split(" ; ")[0] or use.agent,
        dose=use.dose,
        dose_problem=use.dose_problem,
        strength=strength_of(parsed.medication, medication_text(parsed)),
        dose_unit=_dose_unit(dosage),
        timing=timing,
        days=_days(dosage, timing),
        start=start,
    )


def _first_dosage(draft: Mapping[str, Any]) -> Mapping[str, Any]:
    dosages = draft.get("dosageInstruction")
    if isinstance(dosages, list) and dosages and isinstance(dosages[0], Mapping):
        return dosages[0]
    return {}


def _dose_unit(dosage: Mapping[str, Any]) -> str | None:
    for dose_and_rate in dosage.get("doseAndRate") or []:
        quantity = dose_and_rate.get("doseQuantity") or (dose_and_rate.get("doseRange") or {}).get(
            "high"
        )
        if isinstance(quantity, Mapping):
            unit = quantity.get("code") or quantity.get("unit")
            return str(unit) if unit else None
    return None


def _days(dosage: Mapping[str, Any], timing: Timing) -> int | None:
    """Days of a course: ``repeat.count`` of a daily schedule, ``boundsDuration``, or
    ``boundsPeriod`` counted inclusively (the 1st to the 2nd is 2 days)."""
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    if timing.count is not None and timing.count > 0:
        per_day = timing.doses_per_day or Decimal(1)
        return max(1, int(Decimal(timing.count) / per_day)) if per_day >= 1 else timing.count
    duration = repeat.get("boundsDuration")
    if isinstance(duration, Mapping):
        try:
            value = Decimal(str(duration.get("value")))
        except (InvalidOperation, ValueError):
            value = Decimal(0)
        unit = str(duration.get("code") or duration.get("unit") or "")
        if value > 0 and unit in _DURATION_DAYS:
            return max(1, int(value * _DURATION_DAYS[unit]))
    if timing.start is not None and timing.end is not None and timing.end >= timing.start:
        return (timing.end.date() - timing.start.date()).days + 1
    return None
