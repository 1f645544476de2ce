"""Methotrexate more often than once weekly in the record (docs/clinical/safety.md, methotrexate
schedule): a critical card on patient-view, never first-line methotrexate as if it were right.

For JDM methotrexate is given once a week; daily dosing by mistake is a known cause of death
[ISMP-MTX, IMSN-MTX, NHS-NeverEvents]. A methotrexate order or statement whose schedule gives more
administrations a week than ``order-checks.json`` ``methotrexate.maxAdministrationsPerWeek`` (the
limit the order-time check applies: once weekly) fires ``methotrexate-schedule`` while it is in
force, and for ``methotrexate_schedule_recent_days`` after it ended (variant ``past``). Every
6 days, twice a week, daily and twice a day all fire; once every 7 days does not.

Methotrexate GIVEN more often than weekly shows in the administrations alone (an inpatient chart
where the weekly dose was charted and given daily, under a weekly order or none): more
administrations than ``methotrexate_given_max_in_7_days`` (2: a weekly dose split in two on one
day or 12 hours apart is once weekly) within any 7 calendar days is a run of doses that fires the
same card (variant ``given``), while the run's last dose is within
``methotrexate_schedule_recent_days``. An order or statement and a run on record make one card:
the order in force names the summary, else the run, else the ended order.

It still counts as methotrexate exposure (it was given, and more than intended), but the cards
that say to go on with methotrexate (ivig-start, first-line-window, ivig-contraindicated) get the
``methotrexateNotWeekly`` note (:func:`annotate`), and the therapy so far writes its schedule
with "NOT once weekly".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from cds_service.history.model import DoseEvent, DoseStatus, MethotrexateSchedule, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, ThresholdUse

RULE_ID = "methotrexate_schedule"
TOPIC = "methotrexate-schedule"
NOTE = "methotrexateNotWeekly"
WINDOW_DAYS = 7  # "within any 7 days": 7 consecutive calendar days, once weekly's own span


@dataclass(frozen=True)
class GivenRun:
    """Methotrexate administrations that lie in windows of 7 calendar days holding more than
    ``methotrexate_given_max_in_7_days`` of them (overlapping windows make one run)."""

    doses: tuple[DoseEvent, ...]  # ascending by time
    most_in_window: int  # the most administrations in any one 7-day window of the run


@dataclass(frozen=True)
class MethotrexateScheduleSubject:
    schedules: tuple[MethotrexateSchedule, ...]  # ascending by start; the last is named first
    in_force: bool  # the latest one is still in force (else it ended recently)
    given: tuple[GivenRun, ...] = ()  # ascending; the last is named when no order is in force


def too_frequent(history: TherapyHistory, knowledge: Knowledge) -> tuple[MethotrexateSchedule, ...]:
    """Every methotrexate order or statement on record given more often than once weekly."""
    mtx = history.methotrexate
    if mtx is None:
        return ()
    limit = knowledge.orders.methotrexate_max_per_week.value
    return tuple(s for s in mtx.other_schedules if s.per_week > limit)


def flagged(
    history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> tuple[MethotrexateSchedule, ...]:
    """Those in force now (or starting later), or ended within the recent window."""
    recent = knowledge.threshold("methotrexate_schedule_recent_days")
    return tuple(
        s
        for s in too_frequent(history, knowledge)
        if s.until is None or s.until > now or recent.crossed_by_elapsed(s.until, now)
    )


def given_runs(
    history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> tuple[GivenRun, ...]:
    """Every run of methotrexate administrations (given, up to ``now``, on a recorded date) with
    more than ``methotrexate_given_max_in_7_days`` of them within 7 calendar days."""
    mtx = history.methotrexate
    if mtx is None:
        return ()
    limit = knowledge.threshold("methotrexate_given_max_in_7_days")
    doses = sorted(
        (
            e
            for e in mtx.events
            if e.status is DoseStatus.GIVEN and not e.date_unrecorded and e.at <= now
        ),
        key=lambda e: (e.at, e.source.reference),
    )
    spans: list[tuple[int, int, int]] = []  # first and last index of a run, the most in a window
    for first, start in enumerate(doses):
        last = first
        while (
            last + 1 < len(doses)
            and (doses[last + 1].at.date() - start.at.date()).days < WINDOW_DAYS
        ):
            last += 1
        count = last - first + 1
        if not limit.crossed(Decimal(count)):
            continue
        if spans and first <= spans[-1][1]:  # overlaps the run before: the same run
            begin, end, most = spans[-1]
            spans[-1] = (begin, max(end, last), max(most, count))
        else:
            spans.append((first, last, count))
    return tuple(GivenRun(tuple(doses[a : b + 1]), most) for a, b, most in spans)


def given_flagged(
    history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> tuple[GivenRun, ...]:
    """The runs whose last dose was within the recent window."""
    recent = knowledge.threshold("methotrexate_schedule_recent_days")
    return tuple(
        run
        for run in given_runs(history, knowledge, now)
        if recent.crossed_by_elapsed(run.doses[-1].at, now)
    )


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    schedules = flagged(context.history, knowledge, now)
    runs = given_flagged(context.history, knowledge, now)
    if not schedules and not runs:
        return ()
    in_force = [s for s in schedules if s.until is None or s.until > now]
    shown: tuple[MethotrexateSchedule, ...] = ()
    if schedules:
        named = in_force[-1] if in_force else schedules[-1]
        shown = (*(s for s in schedules if s is not named), named)
    given = [dose for run in runs for dose in run.doses]
    facts = [
        Fact("methotrexate_per_week", _plain(s.per_week), "/wk", s.start, s.source) for s in shown
    ]
    facts += [_given_fact(dose) for dose in given]
    facts += [
        Fact("methotrexate_given_in_7_days", str(run.most_in_window), "doses", run.doses[-1].at)
        for run in runs
    ]
    thresholds = []
    if schedules:
        limit = knowledge.orders.methotrexate_max_per_week
        thresholds.append(ThresholdUse(limit.name, limit.value, limit.unit, "gt", limit.sources[0]))
    if runs:
        thresholds.append(ThresholdUse.of(knowledge.threshold("methotrexate_given_max_in_7_days")))
    thresholds.append(ThresholdUse.of(knowledge.threshold("methotrexate_schedule_recent_days")))
    variant = "default" if in_force else "given" if runs else "past"
    return (
        Finding(
            topic=TOPIC,
            rule_id=RULE_ID,
            resources=tuple(sorted({*(s.source for s in schedules), *(d.source for d in given)})),
            facts=tuple(facts),
            thresholds=tuple(thresholds),
            subject=MethotrexateScheduleSubject(shown, bool(in_force), runs),
            summary_variant=variant,
        ),
    )


def _given_fact(dose: DoseEvent) -> Fact:
    if dose.amount_mg is None:
        return Fact("methotrexate_given", dose.dose_as_written, None, dose.at, dose.source)
    return Fact("methotrexate_given", _plain(dose.amount_mg), "mg", dose.at, dose.source)


def _plain(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")).normalize(), "f")


def annotate(
    findings: tuple[Finding, ...], history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> tuple[Finding, ...]:
    """The cards that go on with methotrexate name the schedule when the card above fired."""
    if not any(f.topic == TOPIC for f in findings):
        return findings
    return tuple(
        replace(finding, note_keys=(*finding.note_keys, NOTE))
        if NOTE in knowledge.topic(finding.topic).notes
        else finding
        for finding in findings
    )
