"""Premature steroid taper (decision-model.md sections 1 and 5).

With active disease, the oral glucocorticoid dose (prednisolone-equivalent mg/day) must not fall
below the reference schedule for the time since the course started: about 50 % of the start dose at
2 months, 25 % at 4, 12.5 % at 6 [Hinze2018]. The floor used is the next milestone's fraction
(e.g. under 50 % before 2 months), which never fires on a taper that follows the schedule. It also
fires when the dose has more than halved within the drop window.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cds_service.history.model import GlucocorticoidCourse, TherapyHistory
from cds_service.knowledge.loader import Knowledge, Threshold
from cds_service.rules import refractory
from cds_service.rules.findings import Fact, Finding, Indicator, ThresholdUse
from cds_service.rules.timeutil import add_months, day, window_start

RULE_ID = "steroid_taper"
FLOORS = (
    (2, "taper_floor_before_2_months"),
    (4, "taper_floor_before_4_months"),
    (6, "taper_floor_before_6_months"),
)


def evaluate(history: TherapyHistory, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    course = history.glucocorticoid
    if course is None or not course.points:
        return ()
    disease = refractory.assess(history, knowledge, now)
    if not disease.active:
        return ()
    start_mg = _induction_dose(course)
    current_mg = course.current.daily_mg if course.current is not None else Decimal(0)
    findings_text, used = [], []
    for check in (
        _below_floor(course, knowledge, now, start_mg, current_mg),
        _drop(course, knowledge, now, current_mg),
    ):
        if check is not None:
            findings_text.append(check[0])
            used += check[1]
    if not findings_text:
        return ()
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
            indicator=Indicator.WARNING,
            rule_id=RULE_ID,
            resources=tuple(sorted({p.source for p in course.points} | set(disease.resources))),
            facts=tuple(facts) + disease.facts,
            thresholds=tuple(used) + disease.thresholds,
            texts={"taper_finding": _summary_text(findings_text[0])},
            notes=tuple(f"- {text}." for text in findings_text),
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
) -> tuple[str, list[ThresholdUse]] | None:
    floor = _floor(course, knowledge, now)
    if floor is None or start_mg <= 0 or current_mg >= floor.value * start_mg:
        return None
    months = next(m for m, name in FLOORS if name == floor.name)
    text = (
        f"{_fmt(current_mg)} mg/day is under {_pct(floor.value)} of the start "
        f"dose {_fmt(start_mg)} mg/day before {months} months"
    )
    return text, [ThresholdUse.of(floor)]


def _floor(course: GlucocorticoidCourse, knowledge: Knowledge, now: datetime) -> Threshold | None:
    for months, name in FLOORS:
        if now < add_months(course.started_at, months):
            return knowledge.threshold(name)
    return None


def _drop(
    course: GlucocorticoidCourse, knowledge: Knowledge, now: datetime, current_mg: Decimal
) -> tuple[str, list[ThresholdUse]] | None:
    window = knowledge.threshold("taper_drop_window_weeks")
    fraction = knowledge.threshold("taper_max_drop_fraction")
    since = window_start(now, window)
    in_force = [p for p in course.points if p.start <= since][-1:]
    in_force += [p for p in course.points if since < p.start <= now]
    if not in_force:
        return None
    highest = max(p.daily_mg for p in in_force)
    if highest <= 0 or current_mg >= fraction.value * highest:
        return None
    text = (
        f"dose fell from {_fmt(highest)} to {_fmt(current_mg)} mg/day within "
        f"{window.value} weeks (since {day(since)})"
    )
    return text, [ThresholdUse.of(fraction), ThresholdUse.of(window)]


def _summary_text(text: str) -> str:
    return text if len(text) <= 48 else text.split(" is under")[0].split(" within")[0]


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _pct(fraction: Decimal) -> str:
    return f"{_fmt(fraction * 100)} %"
