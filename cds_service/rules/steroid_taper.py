"""Premature steroid taper (docs/clinical/decision-model.md §1 and §5).

With active disease, the oral glucocorticoid dose (prednisolone-equivalent mg/day) must not fall
below the reference schedule for the time since the course started: decision.json lists the
milestones (2, 4, 6 months) and thresholds.json the fraction of the start dose before each
[Hinze2018]. The floor used is the next milestone's fraction (e.g. under 50 % before 2 months),
which never fires on a taper that follows the schedule. It also fires when the dose has fallen by
more than the allowed fraction within the drop window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cds_service.history.model import GlucocorticoidCourse
from cds_service.knowledge.decision import TaperFloor
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, ThresholdUse
from cds_service.rules.timeutil import add_months, window_start

RULE_ID = "steroid_taper"


@dataclass(frozen=True)
class BelowFloor:
    current_mg: Decimal
    start_mg: Decimal
    floor: ThresholdUse  # the fraction of the start dose
    before_months: int


@dataclass(frozen=True)
class SteepDrop:
    highest_mg: Decimal
    current_mg: Decimal
    since: datetime  # the start of the drop window


@dataclass(frozen=True)
class TaperSubject:
    below_floor: BelowFloor | None
    steep_drop: SteepDrop | None


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    course = context.history.glucocorticoid
    if course is None or not course.points or not context.disease.active:
        return ()
    if course.trend == "unknown":
        return ()  # the dose in force cannot be read: no taper is judged (data-quality names it)
    disease = context.disease
    start_mg = _induction_dose(course)
    current_mg = course.current.daily_mg if course.current is not None else Decimal(0)
    below = _below_floor(course, knowledge, now, start_mg, current_mg)
    drop = _drop(course, knowledge, now, current_mg)
    if below is None and drop is None:
        return ()
    used = [below.floor] if below is not None else []
    if drop is not None:
        used += [
            ThresholdUse.of(knowledge.threshold("taper_max_drop_fraction")),
            ThresholdUse.of(knowledge.threshold("taper_drop_window_weeks")),
        ]
    facts = [
        Fact(
            "glucocorticoid_start_mg_per_day",
            _fmt(start_mg),
            "mg/d",
            course.started_at,
            course.points[0].source,
        ),
        Fact(
            "glucocorticoid_current_mg_per_day",
            _fmt(current_mg),
            "mg/d",
            now,
            course.current.source if course.current else None,
        ),
    ]
    return (
        Finding(
            topic="steroid-taper",
            rule_id=RULE_ID,
            resources=tuple(sorted({p.source for p in course.points} | set(disease.resources))),
            facts=tuple(facts) + disease.facts,
            thresholds=tuple(used) + disease.thresholds,
            subject=TaperSubject(below, drop),
        ),
    )


def _induction_dose(course: GlucocorticoidCourse) -> Decimal:
    """The start dose: the highest dose in force in the course's first month."""
    induction_end = add_months(course.started_at, 1)
    first_month = [p for p in course.points if p.start < induction_end]
    return max(p.daily_mg for p in (*course.points[:1], *first_month))


def _below_floor(
    course: GlucocorticoidCourse,
    knowledge: Knowledge,
    now: datetime,
    start_mg: Decimal,
    current_mg: Decimal,
) -> BelowFloor | None:
    floor = _next_floor(course, knowledge, now)
    if floor is None or start_mg <= 0:
        return None
    threshold = knowledge.threshold(floor.threshold)
    if not threshold.crossed_by_ratio(current_mg, start_mg):
        return None
    return BelowFloor(current_mg, start_mg, ThresholdUse.of(threshold), floor.before_months)


def _next_floor(
    course: GlucocorticoidCourse, knowledge: Knowledge, now: datetime
) -> TaperFloor | None:
    for floor in knowledge.decision.taper_floors:
        if now < add_months(course.started_at, floor.before_months):
            return floor
    return None


def _drop(
    course: GlucocorticoidCourse, knowledge: Knowledge, now: datetime, current_mg: Decimal
) -> SteepDrop | None:
    window = knowledge.threshold("taper_drop_window_weeks")
    fraction = knowledge.threshold("taper_max_drop_fraction")
    since = window_start(now, window)
    in_force = [p for p in course.points if p.start <= since][-1:]
    in_force += [p for p in course.points if since < p.start <= now]
    if not in_force:
        return None
    highest = max(p.daily_mg for p in in_force)
    if highest <= 0 or not fraction.crossed_by_ratio(current_mg, highest):
        return None
    return SteepDrop(highest, current_mg, since)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")
