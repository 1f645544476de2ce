"""The therapy-history model: what a child was given, when and how much, free of FHIR types.

This module is the contract between the FHIR mapping (``cds_service.history`` builders) and the
clinical rules (``cds_service.rules``). Everything here is a frozen dataclass; every fact carries
the resource(s) it came from (:class:`SourceRef`) so a card can say why it fired.

Concept keys name what a fact is about: the ids of the ValueSets under ``cards/valuesets/``,
typed as ``Literal``s in :mod:`cds_service.knowledge.concepts`.

Times are timezone-aware ``datetime`` values. A FHIR date without a time (``2025-03-01``) becomes
midnight of that day in the clock's zone (the ``now`` passed to the builder).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from cds_service.knowledge.concepts import (
    AgentConcept,
    AllergyConcept,
    CodedResultConcept,
    ConceptKey,
    ImmunizationConcept,
    MeasurementConcept,
    ProblemConcept,
    ProcedureConcept,
)


class MatchKind(StrEnum):
    """How a resource was recognised: by a code in a value set, or by its text (weaker)."""

    CODE = "code"
    NAME = "name"
    TEXT = "text"  # a phrase in free text (a note, a text value): the card quotes it


class DoseStatus(StrEnum):
    GIVEN = "given"  # a completed MedicationAdministration
    EXPECTED = "expected"  # derived from an active order's schedule; not proof it was given
    REPORTED = "reported"  # a MedicationStatement (patient/clinician reported use)
    ORDERED = "ordered"  # a one-off or non-schedulable order (not counted as given)


# --- building blocks --------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class SourceRef:
    """The FHIR resource a fact came from, e.g. ``SourceRef("Observation", "w1")``."""

    resource_type: str
    resource_id: str

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.resource_id}"


@dataclass(frozen=True)
class DataQualityNote:
    """A record that was left out (never used), and why. No PHI: type, id, reason only."""

    resource_type: str
    resource_id: str | None
    reason: str  # human-readable, e.g. "unit '[stone_av]' cannot be converted to kg"
    category: str  # unparseable | other-patient | unit | no-value | unknown-code | other
    concept: ConceptKey | None = None  # what it would have informed, e.g. "weight"
    at: datetime | None = None  # the record's clinical date when known (lets the rules judge
    # whether a newer usable record supersedes it)


@dataclass(frozen=True)
class PatientFacts:
    patient_id: str
    birth_date: date | None
    sex: str | None  # FHIR administrative gender: male | female | other | unknown
    deceased: bool
    age_years: int | None  # completed years at `now`
    age_months: int | None  # completed months beyond age_years (0-11)
    source: SourceRef


@dataclass(frozen=True)
class Problem:
    """A Condition (or an Observation recording a finding) mapped to a concept.

    Refuted / entered-in-error ones, and findings recorded as absent, never get here.
    """

    concept: ProblemConcept
    display: str
    active: bool  # clinicalStatus active | recurrence | relapse
    clinical_status: str | None
    verification_status: str | None
    onset: datetime | None
    recorded: datetime | None
    abated: datetime | None
    code: str | None  # "system|code" that matched, None when matched by name
    matched_by: MatchKind
    source: SourceRef
    quote: str | None = None  # the free text it was read from (matched_by TEXT)
    severe: bool = False  # Condition.severity says severe (SNOMED 24484000 or the word)


@dataclass(frozen=True)
class Measurement:
    """A numeric Observation in its canonical unit (see :data:`CANONICAL_UNITS`)."""

    concept: MeasurementConcept
    value: Decimal
    unit: str
    at: datetime
    status: str  # final | amended | corrected | preliminary
    reference_low: Decimal | None
    reference_high: Decimal | None
    original: str  # value and unit as recorded, e.g. "55 [lb_av]"
    source: SourceRef
    # CODE, or NAME for a score recognised by its text ("CMAS") because it has no LOINC code
    matched_by: MatchKind = MatchKind.CODE
    estimated: bool = False  # an estimated weight (LOINC 8335-2), not a measured one

    @property
    def preliminary(self) -> bool:
        return self.status == "preliminary"


@dataclass(frozen=True)
class CodedResult:
    """A coded Observation result, e.g. ABO blood group ``A`` / ``O``."""

    concept: CodedResultConcept
    value: str  # normalised, e.g. "A", "B", "AB", "O"
    display: str
    at: datetime
    source: SourceRef


@dataclass(frozen=True)
class DoseEvent:
    """One dose of one agent, from an administration, an order's schedule, or a statement."""

    agent: AgentConcept
    at: datetime
    route: str | None  # intravenous | oral | subcutaneous | intramuscular | None (unknown)
    amount_mg: Decimal | None  # None when it could not be normalised (the note says why)
    dose_as_written: str  # e.g. "30 mg/kg", "1 g", "15 mg/m2"
    daily_amount_mg: Decimal | None  # for daily schedules (oral glucocorticoid): mg per day
    status: DoseStatus
    matched_by: MatchKind
    source: SourceRef
    basis: Measurement | None = None  # the weight used for a per-kg dose
    basis_bsa_m2: Decimal | None = None  # the BSA used for a per-m2 dose
    note: str | None = None  # e.g. "mg/m2 dose without a height: not converted"
    # given on a date the record does not hold: `at` is when it was recorded (it was given then
    # or before)
    date_unrecorded: bool = False


@dataclass(frozen=True)
class MethotrexateSchedule:
    """A methotrexate order or statement whose schedule is not once weekly (daily, twice a day,
    twice a week, every few days): how often, from when, until when. Recorded as read; the rules
    judge it (docs/clinical/safety.md, methotrexate more often than weekly)."""

    start: datetime
    until: datetime | None  # when it stopped being in force; None while it is
    per_week: Decimal  # administrations a week, the more frequent reading of a range
    doses_per_day: Decimal | None  # a daily or hourly schedule's doses a day
    dose_as_written: str
    status: DoseStatus  # ORDERED (an order) or REPORTED (a statement)
    source: SourceRef


@dataclass(frozen=True)
class MethotrexateSummary:
    first_dose_at: datetime | None  # earliest given/expected/reported dose or order start
    doses_given: int  # administrations
    doses_expected: int  # from active weekly orders, not covered by administrations
    weeks_on_treatment: Decimal | None  # from first_dose_at to now, one decimal
    active: bool  # an active order or a dose in the last 14 days
    last_dose_at: datetime | None
    events: tuple[DoseEvent, ...]
    # orders and statements with a schedule other than once weekly, by start
    other_schedules: tuple[MethotrexateSchedule, ...] = ()


@dataclass(frozen=True)
class GlucocorticoidPoint:
    """The oral glucocorticoid daily dose in force from `start` (prednisolone-equivalent)."""

    start: datetime
    daily_mg: Decimal
    mg_per_kg_day: Decimal | None  # None without a weight near that date
    weight: Measurement | None
    source: SourceRef


@dataclass(frozen=True)
class GlucocorticoidCourse:
    started_at: datetime
    start_mg_per_kg_day: Decimal | None
    points: tuple[GlucocorticoidPoint, ...]  # ascending by start
    current: GlucocorticoidPoint | None  # the dose in force at `now`, None if stopped
    trend: str  # tapering | stable | rising | stopped | unknown
    raised_after_taper: bool  # the dose went up again after having come down


@dataclass(frozen=True)
class IvigCourse:
    """Infusions within 7 days of the course's first infusion."""

    start: datetime
    end: datetime
    infusions: tuple[DoseEvent, ...]
    total_g: Decimal | None
    g_per_kg: Decimal | None
    weight: Measurement | None


@dataclass(frozen=True)
class BodySurfaceArea:
    """Mosteller BSA from a weight and height measured near each other."""

    value_m2: Decimal
    weight: Measurement
    height: Measurement


@dataclass(frozen=True)
class ProcedureFact:
    concept: ProcedureConcept
    at: datetime | None
    status: str  # FHIR Procedure.status / ServiceRequest.status
    source: SourceRef


@dataclass(frozen=True)
class ImmunizationFact:
    concept: ImmunizationConcept
    vaccine: str  # display, e.g. "MMR"
    code: str | None  # "system|code"
    at: datetime | None
    source: SourceRef


@dataclass(frozen=True)
class AllergyFact:
    concept: AllergyConcept
    severe: bool  # criticality high, or a severe / anaphylactic reaction
    description: str  # e.g. "anaphylaxis, severe reaction"
    source: SourceRef


# --- the whole model -------------------------------------------------------------------------


def _empty_mapping() -> Mapping[MeasurementConcept, tuple[Measurement, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True)
class TherapyHistory:
    """Everything the rules may know about one patient, at `now`."""

    patient: PatientFacts
    now: datetime
    problems: tuple[Problem, ...] = ()
    # concept -> measurements ascending by time (only usable statuses, canonical units)
    measurements: Mapping[MeasurementConcept, tuple[Measurement, ...]] = field(
        default_factory=_empty_mapping
    )
    coded_results: tuple[CodedResult, ...] = ()
    dose_events: tuple[DoseEvent, ...] = ()  # every agent, ascending by time
    methylprednisolone_pulses: tuple[DoseEvent, ...] = ()  # IV MP doses counting as a pulse
    methotrexate: MethotrexateSummary | None = None
    glucocorticoid: GlucocorticoidCourse | None = None
    ivig_courses: tuple[IvigCourse, ...] = ()
    # IVIG orders in force at `now` (active, or ending later): a course ordered, given or due
    ivig_orders: tuple[DoseEvent, ...] = ()
    latest_weight: Measurement | None = None
    bsa: BodySurfaceArea | None = None
    procedures: tuple[ProcedureFact, ...] = ()
    immunizations: tuple[ImmunizationFact, ...] = ()
    allergies: tuple[AllergyFact, ...] = ()
    data_quality: tuple[DataQualityNote, ...] = ()
    # resources of the right type that were fetched but matched no concept (counts by type)
    unmatched_counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def active_problems(self, concept: ProblemConcept) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.concept == concept and p.active)

    def series(self, concept: MeasurementConcept) -> tuple[Measurement, ...]:
        return self.measurements.get(concept, ())

    def latest(self, concept: MeasurementConcept) -> Measurement | None:
        values = self.series(concept)
        return values[-1] if values else None

    def doses(self, agent: AgentConcept) -> tuple[DoseEvent, ...]:
        return tuple(d for d in self.dose_events if d.agent == agent)
