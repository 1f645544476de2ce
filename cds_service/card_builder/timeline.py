"""The "Why this card" section: the therapy timeline the service found, as Markdown lines.

Shows each IV methylprednisolone pulse, methotrexate doses and weeks, the oral glucocorticoid dose
trend in mg/kg/day, IVIG courses, the active symptoms with dates and the key labs, followed by the
finding's own facts and the thresholds it compared them with. Record-derived text is escaped.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cds_service.card_builder.markdown import md_escape
from cds_service.card_builder.units_display import display_unit
from cds_service.history.model import DoseEvent, Measurement, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.text_contract import KEY_RESULTS
from cds_service.knowledge.thresholds import COMPARISON_SIGNS
from cds_service.rules.findings import Finding
from cds_service.rules.timeutil import day, weeks_between


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


def timeline_lines(history: TherapyHistory, now: datetime, knowledge: Knowledge) -> list[str]:
    lines = ["**Therapy timeline found in the record**", ""]
    lines += _pulses(history)
    lines += _methotrexate(history, now)
    lines += _glucocorticoid(history)
    lines += _ivig(history)
    lines += _symptoms(history, knowledge)
    lines += _labs(history, knowledge)
    return lines


def finding_lines(finding: Finding) -> list[str]:
    lines = ["", "**What this card is based on**", ""]
    for fact in finding.facts:
        unit = unit_text(fact.unit)
        when = f" ({day(fact.at)})" if fact.at else ""
        source = f" — {fact.source.reference}" if fact.source else ""
        lines.append(f"- {md_escape(fact.name)}: {md_escape(fact.value)}{unit}{when}{source}")
    for used in finding.thresholds:
        comparison = COMPARISON_SIGNS.get(used.comparison, used.comparison)
        lines.append(
            f"- threshold {md_escape(used.name)}: {comparison} {used.value}"
            f"{unit_text(used.unit)} [{used.source_key}]"
        )
    if len(lines) == 3:
        lines.append("- (no further facts)")
    return lines


def _pulses(history: TherapyHistory) -> list[str]:
    pulses = history.methylprednisolone_pulses
    if not pulses:
        return ["- IV methylprednisolone pulses: none recorded"]
    lines = [f"- IV methylprednisolone pulses: {len(pulses)}"]
    lines += [f"  - {_when(p)}: {_dose(p)} ({p.status}, {p.source.reference})" for p in pulses]
    return lines


def _when(event: DoseEvent) -> str:
    """The dose's date, or, when the record holds none, the date it was recorded by."""
    if event.date_unrecorded:
        return f"date not recorded (on or before {day(event.at)})"
    return day(event.at)


def _methotrexate(history: TherapyHistory, now: datetime) -> list[str]:
    mtx = history.methotrexate
    if mtx is None or mtx.first_dose_at is None:
        return ["- Methotrexate: none recorded"]
    weeks = weeks_between(mtx.first_dose_at, now)
    lines = [
        f"- Methotrexate: started {day(mtx.first_dose_at)} ({weeks} weeks ago); "
        f"{mtx.doses_given} doses given, {mtx.doses_expected} expected from active orders"
        f"{'' if mtx.active else '; not active now'}"
    ]
    for event in mtx.events[-8:]:
        lines.append(f"  - {_when(event)}: {_dose(event)} ({event.status})")
    return lines


def _glucocorticoid(history: TherapyHistory) -> list[str]:
    course = history.glucocorticoid
    if course is None or not course.points:
        return ["- Oral glucocorticoid: none recorded"]
    lines = [
        f"- Oral prednisolone-equivalent since {day(course.started_at)}: trend {course.trend}"
        f"{', raised again after a taper' if course.raised_after_taper else ''}"
    ]
    for point in course.points:
        per_kg = (
            f" = {_dec(point.mg_per_kg_day)} mg/kg/day"
            if point.mg_per_kg_day is not None
            else " (no weight near that date for mg/kg/day)"
        )
        lines.append(f"  - from {day(point.start)}: {_dec(point.daily_mg)} mg/day{per_kg}")
    if course.current is None:
        lines.append("  - not taken now (stopped)")
    return lines


def _ivig(history: TherapyHistory) -> list[str]:
    if not history.ivig_courses:
        return ["- IVIG: none recorded"]
    lines = [f"- IVIG courses: {len(history.ivig_courses)}"]
    for course in history.ivig_courses:
        total = f"{_dec(course.total_g)} g" if course.total_g is not None else "total unknown"
        per_kg = f" ({_dec(course.g_per_kg)} g/kg)" if course.g_per_kg is not None else ""
        lines.append(f"  - {day(course.start)} to {day(course.end)}: {total}{per_kg}")
    return lines


def _symptoms(history: TherapyHistory, knowledge: Knowledge) -> list[str]:
    lists = knowledge.decision
    concepts = set(lists.activity_problems) | set(lists.red_flag_problems)
    active = [p for p in history.problems if p.active and p.concept in concepts]
    if not active:
        return ["- Active symptoms: none recorded as active Conditions"]
    lines = ["- Active symptoms:"]
    for problem in active:
        since = problem.onset or problem.recorded
        lines.append(
            f"  - {md_escape(problem.display)} (since {day(since)}, {problem.source.reference})"
        )
    return lines


def _labs(history: TherapyHistory, knowledge: Knowledge) -> list[str]:
    found = [
        (line_start(knowledge.texts.label(concept)), m)
        for concept in KEY_RESULTS
        if (m := history.latest(concept))
    ]
    if not found:
        return ["- Key results: none recorded"]
    return ["- Key results (latest):"] + [f"  - {label}: {_measure(m)}" for label, m in found]


def _measure(measurement: Measurement) -> str:
    flag = " (preliminary)" if measurement.preliminary else ""
    return (
        f"{_dec(measurement.value)}{unit_text(measurement.unit)} on {day(measurement.at)}"
        f"{flag} ({measurement.source.reference})"
    )


def _dose(event: DoseEvent) -> str:
    written = md_escape(event.dose_as_written)
    if event.amount_mg is None:
        return f"{written} (not converted to mg)"
    in_mg = f"{_dec(event.amount_mg)} mg"
    return in_mg if written.replace(" ", "") == in_mg.replace(" ", "") else f"{written} = {in_mg}"


def _dec(value: Decimal | None) -> str:
    if value is None:
        return "?"
    return format(value.normalize(), "f")
