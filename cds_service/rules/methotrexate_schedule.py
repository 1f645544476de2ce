"""Methotrexate more often than once weekly in the record (docs/clinical/safety.md, methotrexate
schedule): a critical card on patient-view, never first-line methotrexate as if it were right.

For JDM methotrexate is given once a week; daily dosing by mistake is a known cause of death
[ISMP-MTX, IMSN-MTX, NHS-NeverEvents]. A methotrexate order or statement whose schedule gives more
administrations a week than ``order-checks.json`` ``methotrexate.maxAdministrationsPerWeek`` (the
limit the order-time check applies: once weekly) fires ``methotrexate-schedule`` while it is in
force, and for ``methotrexate_schedule_recent_days`` after it ended (variant ``past``). Every
6 days, twice a week, daily and twice a day all fire; once every 7 days does not.

It still counts as methotrexate exposure (it was given, and more than intended), but the cards
that say to go on with methotrexate (ivig-start, first-line-window, ivig-contraindicated) get the
``methotrexateNotWeekly`` note (:func:`annotate`), and the therapy so far writes its schedule
with "NOT once weekly".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from cds_service.history.model import MethotrexateSchedule, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, ThresholdUse

RULE_ID = "methotrexate_schedule"
TOPIC = "methotrexate-schedule"
NOTE = "methotrexateNotWeekly"


@dataclass(frozen=True)
class MethotrexateScheduleSubject:
    schedules: tuple[MethotrexateSchedule, ...]  # ascending by start; the last is named first
    in_force: bool  # the latest one is still in force (else it ended recently)


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


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    schedules = flagged(context.history, knowledge, now)
    if not schedules:
        return ()
    in_force = [s for s in schedules if s.until is None or s.until > now]
    named = in_force[-1] if in_force else schedules[-1]
    shown = (*(s for s in schedules if s is not named), named)
    limit = knowledge.orders.methotrexate_max_per_week
    return (
        Finding(
            topic=TOPIC,
            rule_id=RULE_ID,
            resources=tuple(sorted({s.source for s in schedules})),
            facts=tuple(
                Fact("methotrexate_per_week", _plain(s.per_week), "/wk", s.start, s.source)
                for s in shown
            ),
            thresholds=(
                ThresholdUse(limit.name, limit.value, limit.unit, "gt", limit.sources[0]),
                ThresholdUse.of(knowledge.threshold("methotrexate_schedule_recent_days")),
            ),
            subject=MethotrexateScheduleSubject(shown, bool(in_force)),
            summary_variant="default" if in_force else "past",
        ),
    )


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
