"""What the rules ask of the dose events: pulses, methotrexate exposure, IVIG courses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from cds_service.history.body import BodySize
from cds_service.history.events import TimedEvent
from cds_service.history.model import (
    DoseEvent,
    DoseStatus,
    IvigCourse,
    MethotrexateSchedule,
    MethotrexateSummary,
)
from cds_service.knowledge.history_policy import HistoryPolicy

COUNTED = (DoseStatus.GIVEN, DoseStatus.REPORTED)


def methylprednisolone_pulses(
    events: Sequence[DoseEvent], policy: HistoryPolicy
) -> tuple[DoseEvent, ...]:
    """IV methylprednisolone doses given (or reported) at or above a pulse threshold.

    A reported dose on a day that already has a given one is the same dose told twice.
    """
    given_days = {
        e.at.date()
        for e in events
        if e.agent == "methylprednisolone-iv" and e.status == DoseStatus.GIVEN
    }
    pulses = []
    for event in events:
        if event.agent != "methylprednisolone-iv" or event.status not in COUNTED:
            continue
        if event.status == DoseStatus.REPORTED and event.at.date() in given_days:
            continue
        if _is_pulse(event, policy):
            pulses.append(event)
    return tuple(pulses)


def _is_pulse(event: DoseEvent, policy: HistoryPolicy) -> bool:
    if event.amount_mg is None:
        return False
    if event.amount_mg >= policy.pulse_min_mg:
        return True
    weight = event.basis
    return weight is not None and event.amount_mg / weight.value >= policy.pulse_min_mg_per_kg


def methotrexate_summary(
    events: Sequence[DoseEvent], active_order: bool, policy: HistoryPolicy, now: datetime
) -> MethotrexateSummary | None:
    """Given, expected (not covered by a given dose) and reported methotrexate doses."""
    all_events = [e for e in events if e.agent == "methotrexate"]
    if not all_events:
        return None
    given = [e for e in all_events if e.status == DoseStatus.GIVEN]
    half_interval = policy.methotrexate_interval / 2
    kept: list[DoseEvent] = []
    for event in all_events:
        if event.status == DoseStatus.EXPECTED and any(
            abs(other.at - event.at) < half_interval
            for other in [*given, *(k for k in kept if k.status == DoseStatus.EXPECTED)]
        ):
            continue  # covered by an administration, or by another order's schedule
        kept.append(event)
    expected = [e for e in kept if e.status == DoseStatus.EXPECTED]
    doses = [e for e in kept if e.status != DoseStatus.ORDERED]
    first = min((e.at for e in kept), default=None)
    last = max((e.at for e in doses if e.at <= now), default=None)
    weeks = None
    if first is not None and first <= now:
        days = Decimal((now - first).total_seconds()) / Decimal(86400)
        weeks = (days / Decimal(7)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    recent = last is not None and now - last <= policy.methotrexate_active_window
    return MethotrexateSummary(
        first_dose_at=first,
        doses_given=len(given),
        doses_expected=len(expected),
        weeks_on_treatment=weeks,
        active=active_order or recent,
        last_dose_at=last,
        events=tuple(sorted(kept, key=_order_key)),
    )


def methotrexate_schedules(timed: Sequence[TimedEvent]) -> tuple[MethotrexateSchedule, ...]:
    """Methotrexate orders and statements whose schedule states how often and is not once
    weekly (a weekly order's doses are the EXPECTED events instead)."""
    found = []
    for item in timed:
        event, timing = item.event, item.timing
        if event.agent != "methotrexate" or timing is None or timing.weekly:
            continue
        if timing.per_week is None or event.status not in (DoseStatus.ORDERED, DoseStatus.REPORTED):
            continue
        found.append(
            MethotrexateSchedule(
                start=event.at,
                until=item.until,
                per_week=timing.per_week,
                doses_per_day=timing.doses_per_day,
                dose_as_written=event.dose_as_written,
                status=event.status,
                source=event.source,
            )
        )
    return tuple(sorted(found, key=lambda s: (s.start, s.source.reference)))


def ivig_courses(
    events: Sequence[DoseEvent], body: BodySize, policy: HistoryPolicy
) -> tuple[IvigCourse, ...]:
    """Given or reported infusions grouped: a course holds those within 7 days of its first."""
    infusions = sorted(
        (e for e in events if e.agent == "ivig" and e.status in COUNTED), key=_order_key
    )
    groups: list[list[DoseEvent]] = []
    for infusion in infusions:
        if groups and infusion.at - groups[-1][0].at <= policy.ivig_course_window:
            groups[-1].append(infusion)
        else:
            groups.append([infusion])
    return tuple(_course(group, body) for group in groups)


def _course(infusions: list[DoseEvent], body: BodySize) -> IvigCourse:
    start = infusions[0].at
    amounts = [e.amount_mg for e in infusions]
    total_g: Decimal | None = None
    if all(a is not None for a in amounts):
        total_g = sum((a for a in amounts if a is not None), Decimal(0)) / Decimal(1000)
    weight = body.weight_near(start)
    g_per_kg = None
    if total_g is not None and weight is not None:
        g_per_kg = (total_g / weight.value).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return IvigCourse(
        start=start,
        end=infusions[-1].at,
        infusions=tuple(infusions),
        total_g=total_g,
        g_per_kg=g_per_kg,
        weight=weight,
    )


def _order_key(event: DoseEvent) -> tuple[datetime, str, str]:
    return (event.at, event.source.reference, event.status.value)
