"""Where the patient stands in an IVIG trial for JDM (docs/clinical/decision-model.md §4).

* **Courses that count**: given (or reported) IVIG courses from the JDM diagnosis on, at roughly
  the JDM dose (at least ``ivig_jdm_course_g_per_kg``; a course whose g/kg is unknown counts).
  Earlier or smaller courses (immune thrombocytopenia in 2019, a replacement dose) are kept apart
  and named on the card, never counted as a failed JDM trial.
* **On IVIG**: any IVIG infusion within ``ivig_recent_weeks`` (counted or not: a recent course of
  any kind rules out a fresh 2 g/kg draft), or an active IVIG order.
* **Next course overdue**: counted courses were started and the last one began more than
  ``ivig_course_overdue_days`` ago (the regimen is monthly), no IVIG order is active, and the
  trial has not lapsed (``ivig_trial_lapsed_weeks``): the next course is due, not a fresh start.
* **Failing**: at least ``ivig_failing_courses`` counted courses, at least
  ``ivig_response_review_weeks`` after the third began, the disease still active, and the strength
  scores not improving (:mod:`cds_service.rules.score_trend`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cds_service.history.model import DoseEvent, IvigCourse, SourceRef, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import ThresholdUse
from cds_service.rules.score_trend import ScoreTrend, score_trends


@dataclass(frozen=True)
class IvigStatus:
    courses: tuple[IvigCourse, ...]  # counted for JDM, oldest first
    not_counted: tuple[IvigCourse, ...]  # before the JDM diagnosis or under the JDM dose
    last_infusion_at: datetime | None  # of any course
    recent: bool  # any infusion within the recency window, or an IVIG order in force
    overdue: bool  # on a trial, the next course overdue (not lapsed)
    failing: bool  # enough courses, reviewed late enough, still active, not improving
    improving: bool  # a strength score improving over its last values
    trends: tuple[ScoreTrend, ...]
    thresholds: tuple[ThresholdUse, ...]
    # IVIG orders in force: a course already ordered (given or due), so no second one is drafted
    orders: tuple[DoseEvent, ...] = ()

    @property
    def ordered(self) -> bool:
        return bool(self.orders)

    @property
    def resources(self) -> tuple[SourceRef, ...]:
        given = [i.source for c in self.courses for i in c.infusions]
        return tuple(dict.fromkeys([*given, *(o.source for o in self.orders)]))

    @property
    def on_trial(self) -> bool:
        """IVIG for JDM is under way: given recently, ordered, or the next course overdue."""
        return self.recent or self.overdue


def jdm_diagnosed_at(history: TherapyHistory) -> datetime | None:
    """The earliest onset (or, without one, first record) of a JDM diagnosis on record."""
    dates = [p.onset or p.recorded for p in history.problems if p.concept == "jdm"]
    known = [d for d in dates if d is not None]
    return min(known) if known else None


def split_courses(
    history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> tuple[tuple[IvigCourse, ...], tuple[IvigCourse, ...]]:
    """(the courses that count toward the JDM trial, those that do not), each oldest first."""
    jdm_dose = knowledge.threshold("ivig_jdm_course_g_per_kg")
    diagnosed = jdm_diagnosed_at(history)
    counted: list[IvigCourse] = []
    not_counted: list[IvigCourse] = []
    for course in history.ivig_courses:
        if course.start > now:
            continue
        before_jdm = diagnosed is not None and course.start < diagnosed
        too_small = course.g_per_kg is not None and not jdm_dose.crossed(course.g_per_kg)
        (not_counted if before_jdm or too_small else counted).append(course)
    return tuple(counted), tuple(not_counted)


def ivig_status(
    history: TherapyHistory, knowledge: Knowledge, now: datetime, disease_active: bool
) -> IvigStatus:
    recency = knowledge.threshold("ivig_recent_weeks")
    failing_at = knowledge.threshold("ivig_failing_courses")
    jdm_dose = knowledge.threshold("ivig_jdm_course_g_per_kg")
    review = knowledge.threshold("ivig_response_review_weeks")
    overdue_after = knowledge.threshold("ivig_course_overdue_days")
    lapsed_after = knowledge.threshold("ivig_trial_lapsed_weeks")
    counted, not_counted = split_courses(history, knowledge, now)
    everything = (*counted, *not_counted)
    last = max((i.at for c in everything for i in c.infusions if i.at <= now), default=None)
    ordered = bool(history.ivig_orders)
    recent = (last is not None and recency.crossed_by_elapsed(last, now)) or ordered
    last_start = counted[-1].start if counted else None
    overdue = (
        last_start is not None
        and not ordered
        and overdue_after.crossed_by_elapsed(last_start, now)
        and not lapsed_after.crossed_by_elapsed(last_start, now)
    )
    trends = score_trends(history, knowledge)
    improving = any(t.improving for t in trends) and not any(t.worsening for t in trends)
    enough = failing_at.crossed(Decimal(len(counted)))
    reviewed = enough and review.crossed_by_elapsed(counted[int(failing_at.value) - 1].start, now)
    return IvigStatus(
        courses=counted,
        not_counted=not_counted,
        last_infusion_at=last,
        recent=recent,
        overdue=overdue,
        failing=disease_active and reviewed and not improving,
        improving=improving,
        trends=trends,
        thresholds=tuple(
            ThresholdUse.of(t)
            for t in (recency, failing_at, jdm_dose, review, overdue_after, lapsed_after)
        ),
        orders=history.ivig_orders,
    )
