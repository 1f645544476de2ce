"""The therapy so far, in a few lines: shown once, on the main card of a response.

One line per therapy (IV methylprednisolone pulses, methotrexate, the oral glucocorticoid course,
IVIG courses) and one line of the latest key results, dates with each. No resource ids: the
records are in the card's evidence extension. Record-derived text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from cds_service.card_builder.markdown import md_escape
from cds_service.card_builder.schedule_text import schedule_words
from cds_service.card_builder.units_display import display_unit, measured_text
from cds_service.history.dosage import Timing
from cds_service.history.model import (
    DoseEvent,
    DoseStatus,
    IvigCourse,
    Measurement,
    MethotrexateSchedule,
    TherapyHistory,
)
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.text_contract import KEY_RESULTS, TIMELINE_AGENTS
from cds_service.knowledge.texts import CardTexts
from cds_service.rules.ivig_trial import split_courses
from cds_service.rules.methotrexate_schedule import GivenRun, given_flagged, too_frequent
from cds_service.rules.score_trend import ScoreTrend, score_trends
from cds_service.rules.timeutil import day, weeks_between

_Phrase = Callable[..., str]  # CardTexts.phrase


def line_start(label: str) -> str:
    """A label as the first word of a line: ``creatinine`` -> ``Creatinine``, ``eGFR`` stays."""
    if len(label) > 1 and label[1].islower():
        return label[0].upper() + label[1:]
    return label


def unit_text(unit: str | None) -> str:
    """' kg', ' mL/min/1.73 m²', or '' for a dimensionless score (leading space included)."""
    if not unit:
        return ""
    shown = display_unit(unit)
    return f" {md_escape(shown)}" if shown else ""


# results the timeline leaves out: the height is in the dose arithmetic that uses it, and the
# results the safety checks read are listed with them (Safety)
SHOWN_ELSEWHERE = frozenset({"height", "iga", "creatinine", "egfr"})


def timeline_lines(history: TherapyHistory, now: datetime, knowledge: Knowledge) -> list[str]:
    """The heading and one line per therapy, then the latest key results."""
    phrase = knowledge.texts.phrase
    lines = [
        _pulses(history, phrase),
        _methotrexate(history, now, knowledge),
        _glucocorticoid(history, phrase),
        _ivig(history, now, knowledge),
    ]
    agents = _second_line(history, knowledge)
    if agents:
        lines.append(phrase("timeline.secondLine", agents=agents))
    trends = [t for t in score_trends(history, knowledge) if len(t.values) > 1]
    if trends:
        lines.append(
            phrase("timeline.trend", trends="; ".join(_trend(t, knowledge) for t in trends))
        )
    results = _results(history, knowledge, {t.concept for t in trends})
    if results:
        lines.append(phrase("timeline.results", results=results))
    return [phrase("timeline.heading"), "", *(f"- {line}" for line in lines)]


def _pulses(history: TherapyHistory, phrase: _Phrase) -> str:
    pulses = history.methylprednisolone_pulses
    if not pulses:
        return phrase("timeline.pulses.none")
    doses = sorted({_dose(p) for p in pulses})
    return phrase(
        "timeline.pulses",
        count=str(len(pulses)),
        doses=" / ".join(doses),
        dates=_span(pulses),
    )


def _methotrexate_given(doses_given: int, phrase: Callable[..., str]) -> str:
    """``4 doses given``, ``1 dose given``, or, with no administration on record, that methotrexate
    was only ordered or reported (outpatients' methotrexate is prescribed, not charted)."""
    if doses_given == 0:
        return phrase("timeline.methotrexate.noneGiven")
    if doses_given == 1:
        return phrase("timeline.methotrexate.givenOne")
    return phrase("timeline.methotrexate.given", count=str(doses_given))


def _methotrexate(history: TherapyHistory, now: datetime, knowledge: Knowledge) -> str:
    phrase = knowledge.texts.phrase
    mtx = history.methotrexate
    if mtx is None or mtx.first_dose_at is None:
        return phrase("timeline.methotrexate.none")
    latest = mtx.events[-1] if mtx.events else None
    values = {
        "dose": _dose(latest) if latest is not None else "?",
        "start": day(mtx.first_dose_at),
        "weeks": str(weeks_between(mtx.first_dose_at, now)),
        "given": _methotrexate_given(mtx.doses_given, phrase),
    }
    # the latest record more often than weekly: never written as weekly methotrexate
    wrong = [s for s in too_frequent(history, knowledge) if latest and s.source == latest.source]
    if wrong:
        schedule = methotrexate_schedule_words(wrong[-1], knowledge.texts)
        return phrase("timeline.methotrexate.notWeekly", schedule=schedule, **values)
    runs = given_flagged(history, knowledge, now)
    if runs:
        run = runs[-1].doses
        return phrase(
            "timeline.methotrexate.givenNotWeekly",
            count=str(len(run)),
            first=day(run[0].at),
            last=day(run[-1].at),
            **values,
        )
    if mtx.active:
        return phrase("timeline.methotrexate", **values)
    last = mtx.last_dose_at or mtx.first_dose_at
    return phrase("timeline.methotrexate.stopped", last=day(last), **values)


def given_doses(run: GivenRun) -> str:
    """The dose of a run of administrations: ``15 mg``, or ``15 mg / 7.5 mg`` when they differ."""
    return " / ".join(dict.fromkeys(dose.dose_as_written for dose in run.doses))


def methotrexate_schedule_words(schedule: MethotrexateSchedule, texts: CardTexts) -> str:
    """``daily``, ``2 times a day``, ``every 6 days``, ``2 times a week``."""
    timing = Timing(schedule.doses_per_day, False, None, None, None, schedule.per_week)
    return schedule_words(timing, texts)


def _glucocorticoid(history: TherapyHistory, phrase: _Phrase) -> str:
    course = history.glucocorticoid
    if course is None or not course.points:
        return phrase("timeline.glucocorticoid.none")
    steps = []
    for point in course.points[-3:]:
        per_kg = (
            phrase("timeline.perKgDay", value=_dec(point.mg_per_kg_day))
            if point.mg_per_kg_day is not None
            else ""
        )
        steps.append(
            phrase(
                "timeline.glucocorticoid.step",
                mg=_dec(point.daily_mg),
                per_kg=per_kg,
                date=day(point.start),
            )
        )
    stopped = course.current is None
    key = "timeline.glucocorticoid.stopped" if stopped else "timeline.glucocorticoid"
    return phrase(key, steps=" → ".join(steps))


def _ivig(history: TherapyHistory, now: datetime, knowledge: Knowledge) -> str:
    """The courses that count toward the JDM trial, then those that do not (and why)."""
    phrase = knowledge.texts.phrase
    counted, not_counted = split_courses(history, knowledge, now)
    line = phrase("timeline.ivig.none")
    if counted:
        courses = ", ".join(_course(c, phrase) for c in counted[-4:])
        line = phrase("timeline.ivig", count=str(len(counted)), courses=courses)
    if not_counted:
        line += phrase(
            "timeline.ivig.notCounted",
            courses=", ".join(_course(c, phrase) for c in not_counted[-3:]),
            limit=_dec(knowledge.threshold("ivig_jdm_course_g_per_kg").value),
        )
    return line


def _course(course: IvigCourse, phrase: _Phrase) -> str:
    total = f"{_dec(course.total_g)} g" if course.total_g is not None else "?"
    return phrase("timeline.ivig.course", date=day(course.start), total=total)


def _second_line(history: TherapyHistory, knowledge: Knowledge) -> str:
    """Each second-line agent on record, and immune globulin that is not IVIG: its latest dose as
    written, how many doses, when."""
    shown = []
    for agent in TIMELINE_AGENTS:
        events = history.doses(agent)  # type: ignore[arg-type]
        if not events:
            continue
        name = line_start(knowledge.texts.label(agent))
        given = [e for e in events if e.status in (DoseStatus.GIVEN, DoseStatus.REPORTED)]
        if not given:  # only orders: what was ordered, from when
            shown.append(
                knowledge.texts.phrase(
                    "timeline.agentOrdered",
                    agent=name,
                    dose=_dose(events[0]),
                    date=day(events[0].at),
                )
            )
            continue
        shown.append(
            knowledge.texts.phrase(
                "timeline.agent",
                agent=name,
                dose=_dose(given[-1]),
                count=str(len(given)),
                dates=_span(given),
            )
        )
    return "; ".join(shown)


def _trend(trend: ScoreTrend, knowledge: Knowledge) -> str:
    """``CMAS 18 (2026-01-10) → 30 (2026-02-07) → 44 (2026-03-07)``."""
    flag = knowledge.texts.phrase("timeline.preliminary")
    steps = [
        f"{md_escape(measured_text(m.value, m.unit))}{flag if m.preliminary else ''} ({day(m.at)})"
        for m in trend.values
    ]
    return f"{knowledge.texts.label(trend.concept)} " + " → ".join(steps)


def _results(history: TherapyHistory, knowledge: Knowledge, in_trend: set[str]) -> str:
    """The latest key results (those not in a trend), the same day's grouped under one date."""
    by_day: dict[str, list[str]] = {}
    for concept in KEY_RESULTS:
        measured = history.latest(concept)
        if measured is None or concept in SHOWN_ELSEWHERE or concept in in_trend:
            continue
        by_day.setdefault(day(measured.at), []).append(_result(concept, measured, knowledge))
    return "; ".join(f"{', '.join(items)} ({date})" for date, items in by_day.items())


def _result(concept: str, measured: Measurement, knowledge: Knowledge) -> str:
    flag = knowledge.texts.phrase("timeline.preliminary") if measured.preliminary else ""
    value = measured_text(measured.value, measured.unit)
    return f"{knowledge.texts.label(concept)} {md_escape(value)}{flag}"


def _span(events: Sequence[DoseEvent]) -> str:
    first, last = day(events[0].at), day(events[-1].at)
    when = first if first == last else f"{first} to {last}"
    return when + (" (a date not recorded)" if any(e.date_unrecorded for e in events) else "")


def _dose(event: DoseEvent) -> str:
    written = md_escape(event.dose_as_written)
    if event.amount_mg is None:
        return written
    in_mg = f"{_dec(event.amount_mg.quantize(Decimal(1)))} mg"
    return in_mg if written.replace(" ", "") == in_mg.replace(" ", "") else f"{written} = {in_mg}"


def _dec(value: Decimal | None) -> str:
    if value is None:
        return "?"
    return format(value.normalize(), "f")
