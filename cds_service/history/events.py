"""Medication uses -> :class:`DoseEvent` values, with each dose normalised to mg.

* MedicationAdministration (completed, in-progress, stopped) -> GIVEN at its effective time.
* MedicationStatement (active, completed, stopped) -> REPORTED at the start of its period.
* MedicationRequest (active, completed, stopped, on-hold; intent order-like) -> ORDERED at its
  start; a weekly methotrexate order instead gives EXPECTED doses every week of the time it was in
  force (from the schedule's start, validityPeriod.start or authoredOn, until the schedule's or
  validity end, the start of an order that replaced it (``priorPrescription``), `now`, or, for a
  completed / stopped / on-hold order with no end, its ``meta.lastUpdated``).

Per-kg and per-m2 doses use the weight (and BSA) nearest the dose date (:class:`BodySize`); when
there is none the amount stays None and the event's note says why. Oral glucocorticoid amounts are
prednisolone-equivalent mg.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from decimal import Decimal

from cds_service.history.body import BodySize
from cds_service.history.dates import clock_zone, period_end, period_start, to_datetime
from cds_service.history.dosage import MASS_TO_MG, Timing
from cds_service.history.medications import MedicationUse
from cds_service.history.model import BodySurfaceArea, DoseEvent, DoseStatus, Measurement
from cds_service.history.select import (
    GIVEN_STATUSES,
    ORDER_INTENTS,
    ORDER_STATUSES,
    REPORTED_STATUSES,
)
from cds_service.knowledge.concepts import agent_concept
from cds_service.knowledge.history_policy import HistoryPolicy


@dataclass(frozen=True)
class TimedEvent:
    """A dose event and, for orders and statements, when it stopped being in force."""

    event: DoseEvent
    until: datetime | None
    timing: Timing | None = None  # an order's or statement's schedule


@dataclass(frozen=True)
class Amount:
    amount_mg: Decimal | None
    daily_mg: Decimal | None
    weight: Measurement | None
    bsa: BodySurfaceArea | None
    note: str | None


def build_events(
    uses: Iterable[MedicationUse], body: BodySize, policy: HistoryPolicy, now: datetime
) -> list[TimedEvent]:
    zone = clock_zone(now)
    uses = list(uses)
    replaced_at = _replacement_starts(uses, zone)
    events: list[TimedEvent] = []
    for use in uses:
        if use.resource_type == "MedicationAdministration":
            events.extend(_administration(use, body, policy, zone))
        elif use.resource_type == "MedicationStatement":
            events.extend(_statement(use, body, policy, zone))
        else:
            events.extend(_order(use, body, policy, now, replaced_at))
    return events


def _administration(
    use: MedicationUse, body: BodySize, policy: HistoryPolicy, zone: tzinfo
) -> list[TimedEvent]:
    model = use.model
    at = to_datetime(model.effectiveDateTime, zone) or period_start(model.effectivePeriod, zone)
    if use.status not in GIVEN_STATUSES:
        return []
    if at is None:  # R4 allows a date recorded as absent: given on or before it was recorded
        recorded = _last_updated(model, zone)
        if recorded is None:
            return []  # the medication reading said it cannot be counted
        event = replace(_event(use, recorded, DoseStatus.GIVEN, body, policy), date_unrecorded=True)
        return [TimedEvent(event, None)]
    return [TimedEvent(_event(use, at, DoseStatus.GIVEN, body, policy), None)]


def _statement(
    use: MedicationUse, body: BodySize, policy: HistoryPolicy, zone: tzinfo
) -> list[TimedEvent]:
    model = use.model
    at = (
        use.timing.start
        or to_datetime(model.effectiveDateTime, zone)
        or period_start(model.effectivePeriod, zone)
        or to_datetime(model.dateAsserted, zone)
    )
    if use.status not in REPORTED_STATUSES or at is None:
        return []
    until = use.timing.end or period_end(model.effectivePeriod, zone)
    if until is None and use.status in ("completed", "stopped"):
        until = _last_updated(model, zone) or at
    return [TimedEvent(_event(use, at, DoseStatus.REPORTED, body, policy), until, use.timing)]


def _order(
    use: MedicationUse,
    body: BodySize,
    policy: HistoryPolicy,
    now: datetime,
    replaced_at: dict[str, datetime],
) -> list[TimedEvent]:
    model = use.model
    zone = clock_zone(now)
    if use.status not in ORDER_STATUSES or model.intent not in ORDER_INTENTS:
        return []
    validity = getattr(model.dispenseRequest, "validityPeriod", None)
    start = use.timing.start or period_start(validity, zone) or to_datetime(model.authoredOn, zone)
    if start is None:
        return []
    until = use.timing.end or period_end(validity, zone)
    successor_start = replaced_at.get(use.source.resource_id)
    if successor_start is not None and (until is None or successor_start < until):
        until = successor_start
    if until is None and use.status != "active":
        until = _last_updated(model, zone) or start
    if use.agent == "methotrexate" and use.timing.weekly:
        return _weekly_expected(use, start, until, body, policy, now)
    return [TimedEvent(_event(use, start, DoseStatus.ORDERED, body, policy), until, use.timing)]


def _weekly_expected(
    use: MedicationUse,
    start: datetime,
    until: datetime | None,
    body: BodySize,
    policy: HistoryPolicy,
    now: datetime,
) -> list[TimedEvent]:
    events = []
    at = start
    while at <= now and (until is None or at < until):
        events.append(TimedEvent(_event(use, at, DoseStatus.EXPECTED, body, policy), None))
        at = at + policy.methotrexate_interval
    return events


def _replacement_starts(uses: list[MedicationUse], zone: tzinfo) -> dict[str, datetime]:
    """Order id -> the earliest start of an order that names it as its priorPrescription."""
    starts: dict[str, datetime] = {}
    for use in uses:
        if use.resource_type != "MedicationRequest" or use.status not in ORDER_STATUSES:
            continue
        prior = getattr(use.model.priorPrescription, "reference", None)
        start = use.timing.start or to_datetime(use.model.authoredOn, zone)
        if not prior or start is None:
            continue
        prior_id = prior.split("/")[-1]
        if prior_id not in starts or start < starts[prior_id]:
            starts[prior_id] = start
    return starts


def _last_updated(model: object, zone: tzinfo) -> datetime | None:
    return to_datetime(getattr(getattr(model, "meta", None), "lastUpdated", None), zone)


def _event(
    use: MedicationUse, at: datetime, status: DoseStatus, body: BodySize, policy: HistoryPolicy
) -> DoseEvent:
    amount = normalise_amount(use, at, body, policy)
    as_written = use.dose.as_written if use.dose else (use.dose_text or "dose not stated")
    return DoseEvent(
        agent=agent_concept(use.agent),
        at=at,
        route=use.route if use.route != "topical" else None,
        amount_mg=amount.amount_mg,
        dose_as_written=as_written,
        daily_amount_mg=amount.daily_mg,
        status=status,
        matched_by=use.matched_by,
        source=use.source,
        basis=amount.weight,
        basis_bsa_m2=amount.bsa.value_m2 if amount.bsa else None,
        note=amount.note,
    )


def normalise_amount(
    use: MedicationUse, at: datetime, body: BodySize, policy: HistoryPolicy
) -> Amount:
    """The dose in mg (and mg/day when the schedule says how often), never guessed."""
    spec = use.dose
    if spec is None:
        return Amount(
            None, None, None, None, use.dose_problem or "no dose in a mass unit: not converted"
        )
    mg = spec.value * MASS_TO_MG[spec.mass_unit]
    weight = bsa = None
    if spec.per == "kg":
        weight = body.weight_near(at)
        if weight is None:
            return Amount(None, None, None, None, "per-kg dose without a weight near that date")
        mg = mg * weight.value
    elif spec.per == "m2":
        bsa = body.bsa_near(at)
        if bsa is None:
            note = "mg/m2 dose without a weight and height near that date: not converted"
            return Amount(None, None, None, None, note)
        mg, weight = mg * bsa.value_m2, bsa.weight
    if use.agent == "glucocorticoid-oral" and use.ingredient is not None:
        # prednisolone-equivalent mg; IV methylprednisolone stays in its own mg
        mg = mg * policy.glucocorticoid_factors[use.ingredient]
    per_day = use.timing.doses_per_day
    daily: Decimal | None
    if spec.per_day:
        daily, per_dose = mg, (mg / per_day if per_day else mg)
    else:
        daily, per_dose = (mg * per_day if per_day else None), mg
    return Amount(per_dose, daily, weight, bsa, None)
