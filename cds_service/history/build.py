"""``build_history``: raw FHIR JSON of one patient -> :class:`TherapyHistory` at `now`.

parse (fhir_parse) -> observations (weights first: per-kg doses need them) -> medication uses ->
dose events -> derived summaries (pulses, methotrexate, glucocorticoid course, IVIG courses).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from cds_service.history.body import BodySeries, BodySize
from cds_service.history.clinical import map_allergies, map_immunizations, map_procedures
from cds_service.history.dates import clock_zone
from cds_service.history.derived import (
    ivig_courses,
    methotrexate_schedules,
    methotrexate_summary,
    methylprednisolone_pulses,
)
from cds_service.history.events import TimedEvent, build_events
from cds_service.history.findings import map_findings
from cds_service.history.glucocorticoid import glucocorticoid_course
from cds_service.history.measurements import map_observations
from cds_service.history.medications import MedicationUse, uses_of
from cds_service.history.model import (
    BodySurfaceArea,
    DataQualityNote,
    DoseEvent,
    DoseStatus,
    GlucocorticoidCourse,
    IvigCourse,
    Measurement,
    MethotrexateSummary,
    TherapyHistory,
)
from cds_service.history.parse import ParsedRecord, load_deferred, parse_resources
from cds_service.history.patient import map_patient
from cds_service.history.problems import map_problems, problem_notes
from cds_service.history.screen import Screen
from cds_service.history.select import DeferredObservation, Retention
from cds_service.knowledge.concepts import measurement_concept
from cds_service.knowledge.history_policy import HistoryPolicy, load_history_policy
from cds_service.knowledge.terminology import Terminology

MEDICATION_TYPES = ("MedicationAdministration", "MedicationRequest", "MedicationStatement")


@cache
def default_policy() -> HistoryPolicy:
    return load_history_policy()


def build_history(
    raw: Sequence[Mapping[str, Any]],
    patient_id: str,
    terminology: Terminology,
    now: datetime,
    *,
    policy: HistoryPolicy | None = None,
    server: str | None = None,
    unread_since: datetime | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> TherapyHistory:
    """Parse, validate and map a patient's resources; `now` must be timezone-aware.

    `server` is the base URL of the FHIR server the resources came from, when there is one: an
    absolute reference to it names this record's resource; one to any other server does not.
    With `unread_since`, records no value set matches get a second look (findings in codes and
    free text; unread infusions since then, severe allergies: :mod:`history.screen`).
    `checkpoint` is called before each resource is validated; it may raise to stop the work.
    """
    clock_zone(now)
    policy = policy or default_policy()
    retention = Retention(
        now=now,
        lookback=policy.measurement_lookback,
        keep_latest=policy.measurement_keep_latest,
        lookback_by_concept=policy.measurement_lookback_by_concept,
    )
    screen = Screen(policy, now, unread_since) if unread_since is not None else None
    record = parse_resources(
        raw,
        patient_id,
        terminology=terminology,
        retention=retention,
        server=server,
        screen=screen,
        checkpoint=checkpoint,
    )
    observations = map_observations(record.of_type("Observation"), now, terminology, policy)
    late_notes: list[DataQualityNote] = []
    body = _body_size(record, observations.measurements, terminology, policy, now, late_notes)
    therapy = _therapy(record, terminology, body, policy, now)
    measurements = {
        **observations.measurements,
        "weight": body.weights.measurements,
        "height": body.heights.measurements,
    }
    weights = body.weights.measurements
    patient = map_patient(record.patient, patient_id, now)
    return TherapyHistory(
        patient=patient,
        now=now,
        problems=tuple(
            sorted(
                map_problems(record.of_type("Condition"), now, patient.birth_date)
                + map_findings(record.findings, now, policy),
                key=lambda p: (p.concept, p.source),
            )
        ),
        measurements=MappingProxyType(
            {measurement_concept(k): v for k, v in sorted(measurements.items()) if v}
        ),
        coded_results=observations.coded_results,
        latest_weight=weights[-1] if weights else None,
        procedures=map_procedures(
            record.of_type("Procedure"), record.of_type("ServiceRequest"), now
        ),
        immunizations=map_immunizations(record.of_type("Immunization"), now),
        allergies=map_allergies(record.of_type("AllergyIntolerance"), policy),
        data_quality=(
            *record.notes,
            *problem_notes(record.of_type("Condition")),
            *observations.notes,
            *late_notes,
            *therapy.notes,
        ),
        unmatched_counts=record.unmatched_counts,
        dose_events=therapy.dose_events,
        methylprednisolone_pulses=therapy.methylprednisolone_pulses,
        methotrexate=therapy.methotrexate,
        glucocorticoid=therapy.glucocorticoid,
        ivig_courses=therapy.ivig_courses,
        ivig_orders=therapy.ivig_orders,
        bsa=therapy.bsa,
    )


@dataclass(frozen=True)
class _TherapyFacts:
    dose_events: tuple[DoseEvent, ...]
    methylprednisolone_pulses: tuple[DoseEvent, ...]
    methotrexate: MethotrexateSummary | None
    glucocorticoid: GlucocorticoidCourse | None
    ivig_courses: tuple[IvigCourse, ...]
    ivig_orders: tuple[DoseEvent, ...]
    bsa: BodySurfaceArea | None
    notes: tuple[DataQualityNote, ...]


def _therapy(
    record: ParsedRecord,
    terminology: Terminology,
    body: BodySize,
    policy: HistoryPolicy,
    now: datetime,
) -> _TherapyFacts:
    """The medication part of the history."""
    uses, use_notes = _medication_uses(record, terminology, policy, now)
    timed = build_events(uses, body, policy, now)
    active_mtx_order = any(
        u.agent == "methotrexate"
        and u.resource_type == "MedicationRequest"
        and u.status == "active"
        for u in uses
    )
    methotrexate = methotrexate_summary(_sorted_events(timed), active_mtx_order, policy, now)
    schedules = methotrexate_schedules(timed)
    if methotrexate is not None and schedules:
        methotrexate = replace(methotrexate, other_schedules=schedules)
    events = _without_covered_expected(_sorted_events(timed), methotrexate)
    # each of these may load deferred weights, so the BSA (and the weight series) come last
    glucocorticoid = glucocorticoid_course(timed, body, now)
    courses = ivig_courses(events, body, policy)
    return _TherapyFacts(
        dose_events=events,
        methylprednisolone_pulses=methylprednisolone_pulses(events, policy),
        methotrexate=methotrexate,
        glucocorticoid=glucocorticoid,
        ivig_courses=courses,
        ivig_orders=_ivig_orders_in_force(timed, now),
        bsa=body.latest_bsa(),
        notes=(*use_notes, *_event_notes(events)),
    )


def _ivig_orders_in_force(timed: list[TimedEvent], now: datetime) -> tuple[DoseEvent, ...]:
    """IVIG orders still in force at `now`: an active order without an end, or one whose
    schedule or validity ends later (a course ordered and about to be given)."""
    return tuple(
        sorted(
            (
                t.event
                for t in timed
                if t.event.agent == "ivig"
                and t.event.status is DoseStatus.ORDERED
                and (t.until is None or t.until > now)
            ),
            key=lambda e: (e.at, e.source.reference),
        )
    )


def _body_size(
    record: ParsedRecord,
    measurements: Mapping[str, tuple[Measurement, ...]],
    terminology: Terminology,
    policy: HistoryPolicy,
    now: datetime,
    notes: list[DataQualityNote],
) -> BodySize:
    """Weights and heights: the mapped ones, and the deferred ones loaded when a dose needs one."""

    def series(concept: str) -> BodySeries:
        def load(item: DeferredObservation) -> Measurement | None:
            parsed = load_deferred(item, notes)
            if parsed is None:
                return None
            facts = map_observations((parsed,), now, terminology, policy)
            notes.extend(facts.notes)
            found = facts.measurements.get(concept, ())
            return found[0] if found else None

        waiting = [d for d in record.deferred if concept in d.concepts]
        return BodySeries(measurements.get(concept, ()), waiting, load)

    return BodySize(series("weight"), series("height"), policy)


def _medication_uses(
    record: ParsedRecord, terminology: Terminology, policy: HistoryPolicy, now: datetime
) -> tuple[list[MedicationUse], list[DataQualityNote]]:
    uses: list[MedicationUse] = []
    notes: list[DataQualityNote] = []
    for resource_type in MEDICATION_TYPES:
        for parsed in record.of_type(resource_type):
            found, left_out = uses_of(parsed, terminology, policy, clock_zone(now))
            uses.extend(found)
            notes.extend(left_out)
    return uses, notes


def _sorted_events(timed: list[TimedEvent]) -> tuple[DoseEvent, ...]:
    return tuple(
        sorted(
            (t.event for t in timed),
            key=lambda e: (e.at, e.agent, e.source.reference, e.status.value),
        )
    )


def _without_covered_expected(
    events: tuple[DoseEvent, ...], methotrexate: MethotrexateSummary | None
) -> tuple[DoseEvent, ...]:
    """Drop expected methotrexate doses an administration (or another order) already covers."""
    kept = set(methotrexate.events) if methotrexate else set()
    return tuple(
        e
        for e in events
        if not (e.agent == "methotrexate" and e.status == DoseStatus.EXPECTED and e not in kept)
    )


def _event_notes(events: tuple[DoseEvent, ...]) -> list[DataQualityNote]:
    """Doses the history could not fully use, one note per resource (not per expected week)."""
    notes: dict[tuple[str, str, str], DataQualityNote] = {}
    for event in events:  # in time order: each note keeps the resource's latest dose date
        reason, category = _event_problem(event)
        if reason is not None:
            key = (event.source.resource_type, event.source.resource_id, event.agent)
            notes[key] = DataQualityNote(*key[:2], reason, category, event.agent, event.at)
    return list(notes.values())


def _event_problem(event: DoseEvent) -> tuple[str | None, str]:
    if event.amount_mg is None and event.note:
        return event.note, "unit"
    if (
        event.agent == "glucocorticoid-oral"
        and event.status in (DoseStatus.ORDERED, DoseStatus.REPORTED)
        and event.amount_mg is not None
        and event.daily_amount_mg is None
    ):
        return (
            "oral glucocorticoid without a schedule: daily dose unknown, not in the course",
            "other",
        )
    return None, ""
