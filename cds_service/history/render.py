"""The therapy history as a readable timeline, for `jdm-cds history` (clinicians, integrators)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cds_service.history.model import DoseEvent, Measurement, TherapyHistory


def render_history(history: TherapyHistory) -> str:
    lines: list[str] = []
    _patient(history, lines)
    _problems(history, lines)
    _measurements(history, lines)
    _therapy(history, lines)
    _timeline(history, lines)
    _other_facts(history, lines)
    _quality(history, lines)
    return "\n".join(lines) + "\n"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "date unknown"


def _num(value: Decimal | None, places: str = "0.01") -> str:
    if value is None:
        return "?"
    text = f"{value.quantize(Decimal(places)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _patient(history: TherapyHistory, lines: list[str]) -> None:
    patient = history.patient
    age = (
        f"{patient.age_years} y {patient.age_months} m"
        if patient.age_years is not None
        else "age ?"
    )
    lines.append(f"Therapy history at {history.now.isoformat()}")
    lines.append(
        f"Patient {patient.patient_id}: {patient.sex or 'sex ?'}, {age}"
        + (", DECEASED" if patient.deceased else "")
    )


def _problems(history: TherapyHistory, lines: list[str]) -> None:
    lines.append("\nProblems")
    for problem in history.problems:
        state = "active" if problem.active else (problem.clinical_status or "status ?")
        by = "" if problem.matched_by.value == "code" else " [matched by name]"
        lines.append(
            f"  {problem.concept:<22} {state:<10} onset {_when(problem.onset)}  "
            f"{problem.display}{by}  ({problem.source.reference})"
        )
    if not history.problems:
        lines.append("  none")


def _measurement(m: Measurement) -> str:
    flag = " (preliminary)" if m.preliminary else ""
    return f"{_num(m.value)} {m.unit} on {_when(m.at)}{flag}  ({m.source.reference})"


def _measurements(history: TherapyHistory, lines: list[str]) -> None:
    lines.append("\nMeasurements (latest of each; count)")
    for concept, series in history.measurements.items():
        lines.append(f"  {concept:<11} {_measurement(series[-1])}  n={len(series)}")
    if history.bsa:
        bsa = history.bsa
        lines.append(
            f"  BSA         {bsa.value_m2} m2 (Mosteller: {_num(bsa.weight.value)} kg on "
            f"{_when(bsa.weight.at)}, {_num(bsa.height.value)} cm on {_when(bsa.height.at)})"
        )
    for result in history.coded_results:
        lines.append(f"  {result.concept:<11} {result.value} on {_when(result.at)}")


def _therapy(history: TherapyHistory, lines: list[str]) -> None:
    lines.append("\nTherapy")
    pulses = history.methylprednisolone_pulses
    lines.append(
        f"  IV methylprednisolone pulses: {len(pulses)}"
        + (f" ({', '.join(_when(p.at)[:10] for p in pulses)})" if pulses else "")
    )
    mtx = history.methotrexate
    if mtx:
        lines.append(
            f"  Methotrexate: {mtx.doses_given} given, {mtx.doses_expected} expected (not "
            f"proven given); first {_when(mtx.first_dose_at)}, {mtx.weeks_on_treatment} weeks; "
            f"{'active' if mtx.active else 'not active'}"
        )
    course = history.glucocorticoid
    if course:
        lines.append(
            f"  Oral glucocorticoid (prednisolone-equivalent): trend {course.trend}"
            + (", RAISED AFTER TAPER" if course.raised_after_taper else "")
        )
        for point in course.points:
            current = "  <- current" if point is course.current else ""
            lines.append(
                f"    from {_when(point.start)}: {_num(point.daily_mg)} mg/day "
                f"({_num(point.mg_per_kg_day)} mg/kg/day){current}"
            )
    for number, ivig in enumerate(history.ivig_courses, start=1):
        lines.append(
            f"  IVIG course {number}: {_when(ivig.start)[:10]} to {_when(ivig.end)[:10]}, "
            f"{len(ivig.infusions)} infusions, {_num(ivig.total_g)} g = {_num(ivig.g_per_kg)} g/kg"
        )


def _event(event: DoseEvent) -> str:
    amount = f"{_num(event.amount_mg)} mg" if event.amount_mg is not None else "mg ?"
    by = " [by name]" if event.matched_by.value == "name" else ""
    note = f"  NOTE: {event.note}" if event.note else ""
    return (
        f"  {_when(event.at)}  {event.agent:<21} {event.status.value:<8} "
        f"{event.dose_as_written} -> {amount} {event.route or ''}{by}  "
        f"({event.source.reference}){note}"
    )


def _timeline(history: TherapyHistory, lines: list[str]) -> None:
    lines.append("\nDose timeline")
    lines.extend(_event(event) for event in history.dose_events)
    if not history.dose_events:
        lines.append("  none")


def _other_facts(history: TherapyHistory, lines: list[str]) -> None:
    lines.append("\nProcedures, immunizations, allergies")
    for procedure in history.procedures:
        lines.append(f"  {procedure.concept:<22} {procedure.status:<11} {_when(procedure.at)}")
    for shot in history.immunizations:
        lines.append(f"  {shot.concept:<22} {shot.vaccine} on {_when(shot.at)}")
    for allergy in history.allergies:
        lines.append(f"  allergy {allergy.concept}: {allergy.description}")


def _quality(history: TherapyHistory, lines: list[str]) -> None:
    lines.append("\nLeft out (data quality)")
    for note in history.data_quality:
        lines.append(
            f"  {note.resource_type}/{note.resource_id or '?'}: {note.reason} [{note.category}]"
        )
    if not history.data_quality:
        lines.append("  nothing")
    unmatched = ", ".join(f"{k} {v}" for k, v in history.unmatched_counts.items())
    lines.append(f"  not relevant to JDM (matched no value set): {unmatched or 'none'}")
