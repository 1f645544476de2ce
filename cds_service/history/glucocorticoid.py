"""The oral glucocorticoid course: daily prednisolone-equivalent dose over time, and its trend.

Points come from orders and statements (the daily dose they set, from their start until they end
or are replaced) and from administrations (the mg given per calendar day). The dose in force at
`now` is the newest point that has started and not ended; an administration-only point stays in
force for 2 days (a missed day is not a stop). When the newest order or statement in force has a
dose that cannot be read in mg (8 mL of a solution of unknown strength), the dose in force is
unknown (trend ``unknown``), never taken for a stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from cds_service.history.body import BodySize
from cds_service.history.events import TimedEvent
from cds_service.history.model import (
    DoseStatus,
    GlucocorticoidCourse,
    GlucocorticoidPoint,
    SourceRef,
)

AGENT = "glucocorticoid-oral"
ADMINISTRATION_HOLD = timedelta(days=2)
MG_PER_KG_QUANTUM = Decimal("0.01")


def glucocorticoid_course(
    timed: Sequence[TimedEvent], body: BodySize, now: datetime
) -> GlucocorticoidCourse | None:
    spans = _spans(timed)
    spans = [s for s in spans if s[0] <= now]
    if not spans:
        return None
    points: list[GlucocorticoidPoint] = []
    for start, _until, daily, source in spans:
        if points and points[-1].daily_mg == daily:
            continue  # the same dose renewed: not a new point
        weight = body.weight_near(start)
        per_kg = None
        if weight is not None and weight.value > 0:
            per_kg = (daily / weight.value).quantize(MG_PER_KG_QUANTUM, ROUND_HALF_UP)
        points.append(GlucocorticoidPoint(start, daily, per_kg, weight, source))
    last_until = spans[-1][1]
    in_force = last_until is None or last_until > now
    current = points[-1] if in_force else None
    unread = _unread_in_force(timed, now)
    unknown = unread is not None and unread >= spans[-1][0]
    return GlucocorticoidCourse(
        started_at=points[0].start,
        start_mg_per_kg_day=points[0].mg_per_kg_day,
        points=tuple(points),
        current=None if unknown else current,
        trend="unknown" if unknown else _trend(points, current),
        raised_after_taper=_raised_after_taper([p.daily_mg for p in points]),
    )


Span = tuple[datetime, datetime | None, Decimal, SourceRef]


def _spans(timed: Sequence[TimedEvent]) -> list[Span]:
    """(start, until, daily mg, source) ascending, from orders/statements and daily admin totals."""
    spans: list[Span] = []
    per_day: dict[object, list[TimedEvent]] = {}
    for item in timed:
        event = item.event
        if event.agent != AGENT:
            continue
        if event.status == DoseStatus.GIVEN:
            if event.amount_mg is not None:
                per_day.setdefault(event.at.date(), []).append(item)
        elif event.status != DoseStatus.EXPECTED and event.daily_amount_mg is not None:
            spans.append((event.at, item.until, event.daily_amount_mg, event.source))
    for items in per_day.values():
        first = min(items, key=lambda i: i.event.at).event
        total = sum((i.event.amount_mg or Decimal(0) for i in items), Decimal(0))
        spans.append((first.at, first.at + ADMINISTRATION_HOLD, total, first.source))
    spans.sort(key=lambda span: (span[0], str(span[3])))
    return spans


def _unread_in_force(timed: Sequence[TimedEvent], now: datetime) -> datetime | None:
    """The latest start of an order or statement in force at `now` whose daily dose is unread."""
    starts = [
        item.event.at
        for item in timed
        if item.event.agent == AGENT
        and item.event.status in (DoseStatus.ORDERED, DoseStatus.REPORTED)
        and item.event.daily_amount_mg is None
        and item.event.at <= now
        and (item.until is None or item.until > now)
    ]
    return max(starts, default=None)


def _trend(points: list[GlucocorticoidPoint], current: GlucocorticoidPoint | None) -> str:
    if current is None:
        return "stopped"
    if len(points) < 2:
        return "stable"
    previous, latest = points[-2].daily_mg, points[-1].daily_mg
    if latest < previous:
        return "tapering"
    return "rising" if latest > previous else "stable"


def _raised_after_taper(doses: list[Decimal]) -> bool:
    lowest_after_fall: Decimal | None = None
    for earlier, later in pairwise(doses):
        if later < earlier:
            lowest_after_fall = (
                later if lowest_after_fall is None else min(lowest_after_fall, later)
            )
        elif later > earlier and lowest_after_fall is not None:
            return True
    return False
