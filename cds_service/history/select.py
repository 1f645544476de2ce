"""What is worth validating: value-set matching and retention, read cheaply from raw FHIR JSON.

Validating a resource with ``fhir.resources`` costs 100-300 µs; a child's chart holds years of
vitals and labs the rules never read. Everything here looks at plain JSON (dicts), never trusts
it beyond choosing what :mod:`cds_service.history.parse` validates next, and never raises on bad
input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from types import MappingProxyType
from typing import Any, TypeGuard

from cds_service.history.model import DataQualityNote, MatchKind
from cds_service.knowledge.codings import canonical, may_reshape
from cds_service.knowledge.concepts import concept_key
from cds_service.knowledge.terminology import Terminology

# resource type -> the CodeableConcept that says what it is
CODE_ELEMENT: Mapping[str, str] = MappingProxyType(
    {
        "Condition": "code",
        "Observation": "code",
        "Procedure": "code",
        "ServiceRequest": "code",
        "Immunization": "vaccineCode",
        "AllergyIntolerance": "code",
    }
)
_CODE_ELEMENT = dict(CODE_ELEMENT)  # a plain dict: read for every resource
# medication records that can say something: the rest are skipped before validation
GIVEN_STATUSES = frozenset({"completed", "in-progress", "stopped"})
REPORTED_STATUSES = frozenset({"active", "completed", "stopped"})
ORDER_STATUSES = frozenset({"active", "completed", "stopped", "on-hold"})
# every intent of an order in force; a "plan" is how Cerner records home medications. A proposal
# or an option is not yet an order (the service's own drafts are proposals).
ORDER_INTENTS = frozenset(
    {"order", "original-order", "reflex-order", "filler-order", "instance-order", "plan"}
)
LOINC = "http://loinc.org"
_NO_MATCH: tuple[frozenset[str], MatchKind | None, str | None] = (frozenset(), None, None)
BODY_CONCEPTS = frozenset({"weight", "height"})  # the basis of per-kg and per-m2 doses


@dataclass(slots=True)  # one per matched resource: thousands in a lab-dense chart
class Match:
    """A resource worth validating, with the concepts its code (or name) matched."""

    resource: Mapping[str, Any]
    concepts: frozenset[str]
    matched_by: MatchKind | None
    matched_code: str | None
    medication_raw: Mapping[str, Any] | None
    quote: str | None = None  # the free text a TEXT match was found in


@dataclass(frozen=True)
class DeferredObservation:
    """A matched, not yet validated Observation; `at` is read cheaply from its raw JSON."""

    at: datetime
    concepts: frozenset[str]
    match: Match


@dataclass(frozen=True)
class Retention:
    """Which matched Observations are worth validating (validation is the cost of parsing).

    Per concept: every one within `lookback` (or its `lookback_by_concept`) of `now`, and the
    `keep_latest` newest whatever their age. Older weights and heights are deferred (see
    :class:`DeferredObservation`). Resources other than Observations are always kept.
    """

    now: datetime
    lookback: timedelta
    keep_latest: int
    lookback_by_concept: Mapping[str, timedelta] = field(default_factory=dict)


def match_medication_record(
    resource: Mapping[str, Any],
    medications: Mapping[str, Mapping[str, Any]],
    terminology: Terminology | None,
    notes: list[DataQualityNote],
) -> tuple[bool, Match | None]:
    """(matched a value set, the match or None when it was dropped with a note) for a
    MedicationRequest, -Administration or -Statement, coded by itself or by its Medication.
    No validation.
    """
    resource_type = resource["resourceType"]
    medication_raw = resolve_medication(resource, medications)
    codeable = (medication_raw or {}).get("code") or resource.get("medicationCodeableConcept")
    missing = medication_raw is None and "medicationReference" in resource
    if missing:  # its Medication was not sent: only the reference's own words are left
        reference = resource["medicationReference"]
        display = reference.get("display") if is_object(reference) else None
        codeable = {"text": display} if isinstance(display, str) else None
    concepts, matched_by, matched_code = _NO_MATCH
    if terminology is not None:
        concepts, matched_by, matched_code = match_codeable(terminology, resource_type, codeable)
        if not concepts:
            return False, None
    if missing:
        reason = "its Medication is not in the record: recognised by the name it gives"
        concept = min(concepts, default=None)
        notes.append(note(resource_type, resource.get("id"), reason, "other", concept))
    if not can_give_doses(resource):
        return True, None  # e.g. a cancelled order or a dose not given: nothing to validate
    return True, Match(resource, concepts, matched_by, matched_code, medication_raw)


def can_give_doses(resource: Mapping[str, Any]) -> bool:
    """Whether a medication record's status (and intent) lets it give, report or order doses."""
    resource_type, status = resource["resourceType"], resource.get("status")
    if resource_type == "MedicationAdministration":
        return status in GIVEN_STATUSES
    if resource_type == "MedicationStatement":
        return status in REPORTED_STATUSES
    return status in ORDER_STATUSES and resource.get("intent") in ORDER_INTENTS


def retained(
    matches: list[Match], retention: Retention
) -> tuple[list[Match], list[DeferredObservation]]:
    """Split off the Observations `retention` does not keep, before paying for validation.

    Older weights and heights are deferred, not dropped: a per-kg dose of that time may need one.
    A lab-dense chart matches thousands of Observations, mostly years old: one whose local date
    is surely before its concept's look-back (:meth:`_LookBack.surely_before`) is set aside
    unparsed, and its time is read only when its concept has fewer than `keep_latest` within the
    look-back.
    """
    zone = retention.now.tzinfo or UTC
    timed: dict[str, list[tuple[float, int]]] = {}  # POSIX seconds sort fast
    set_aside: dict[str, list[int]] = {}  # surely older than the look-back, time not read
    times: dict[int, datetime] = {}
    lookback = _LookBack(retention)
    for index, match in enumerate(matches):
        resource = match.resource
        if resource["resourceType"] != "Observation":
            continue
        text = resource.get("effectiveDateTime")
        if type(text) is str and len(text) >= _DATE_LENGTH:
            day = text[:_DATE_LENGTH]
            for concept in match.concepts:
                if day >= lookback.surely_before(concept):
                    break
            else:
                for concept in match.concepts:
                    set_aside.setdefault(concept, []).append(index)
                continue
        stamp = _read_time(matches, index, zone, times)
        for concept in match.concepts:
            timed.setdefault(concept, []).append((stamp, index))
    keep: set[int] = set()
    body: set[int] = set()
    for concept in timed.keys() | set_aside.keys():
        stamps = timed.get(concept, [])
        since = lookback.since(concept)
        within = sum(1 for stamp, _ in stamps if stamp >= since)
        if within < retention.keep_latest:  # the newest older ones count: read their times
            stamps += [(_read_time(matches, i, zone, times), i) for i in set_aside.get(concept, [])]
        stamps.sort(reverse=True)
        for position, (stamp, index) in enumerate(stamps):  # newest first
            if stamp < since and position >= retention.keep_latest:
                break
            keep.add(index)
        if concept in BODY_CONCEPTS:
            body.update(index for _, index in stamps)
    kept = [
        m for i, m in enumerate(matches) if m.resource["resourceType"] != "Observation" or i in keep
    ]
    deferred = sorted(
        (
            DeferredObservation(times[i], matches[i].concepts, matches[i])
            for i in body - keep
            if i in times
        ),
        key=lambda item: item.at,
    )
    return kept, deferred


_DATE_LENGTH = len("2026-03-15")


class _LookBack:
    """Each concept's look-back start, as POSIX seconds and as a date to compare text with."""

    def __init__(self, retention: Retention):
        self._retention = retention
        self._since: dict[str, float] = {}
        self._surely_before: dict[str, str] = {}

    def since(self, concept: str) -> float:
        since = self._since.get(concept)
        if since is None:
            lookback = self._retention.lookback_by_concept.get(concept, self._retention.lookback)
            since = self._since[concept] = (self._retention.now - lookback).timestamp()
        return since

    def surely_before(self, concept: str) -> str:
        """A ``YYYY-MM-DD``: a time whose first ten characters sort before it is earlier than
        the look-back, whatever its offset (a local date is within a day of the UTC one; one
        more day of margin). The times Python reads start ``YYYY-MM-DD``, ``YYYYMMDD`` or
        ``YYYY-Www``: the last two sort before it only with an earlier year. A text that is no
        time at all counts as older than any time, so setting it aside changes nothing.

        Empty for weights and heights, whose times are always read (see :func:`retained`).
        """
        day = self._surely_before.get(concept)
        if day is None:
            if concept in BODY_CONCEPTS:
                day = ""
            else:
                since_day = datetime.fromtimestamp(self.since(concept), UTC).date()
                day = (since_day - timedelta(days=2)).isoformat()
            self._surely_before[concept] = day
        return day


def _read_time(matches: list[Match], index: int, zone: tzinfo, times: dict[int, datetime]) -> float:
    """The Observation's time as POSIX seconds (-inf when it has none), kept in `times`."""
    at = raw_time(matches[index].resource, zone)
    if at is None:
        return float("-inf")
    times[index] = at
    return at.timestamp()


_TIME_ELEMENTS = ("effectiveDateTime", "effectiveInstant", "authoredOn", "occurrenceDateTime")


def raw_time(resource: Mapping[str, Any], zone: tzinfo) -> datetime | None:
    """The resource's clinical time read cheaply from raw JSON (only to choose what to validate)."""
    usual = resource.get("effectiveDateTime")  # an Observation's, nearly always
    if type(usual) is str:
        return _parse_time(usual, zone)
    for element in _TIME_ELEMENTS:
        value = resource.get(element)
        if isinstance(value, str):
            return _parse_time(value, zone)
    period = resource.get("effectivePeriod")
    if is_object(period) and isinstance(period.get("start"), str):
        return _parse_time(period["start"], zone)
    return None


_LATEST_ELEMENTS = (
    "effectiveDateTime",
    "authoredOn",
    "dateAsserted",
    "recordedDate",
    "onsetDateTime",
    "lastOccurrence",
    "occurrenceDateTime",
)


def raw_latest_time(resource: Mapping[str, Any], zone: tzinfo) -> datetime | None:
    """The latest clinical time a record states, read from raw JSON: its dates, its period's end
    (or start), and the end of each dosage's schedule bounds. None when it states none."""
    times = [resource.get(element) for element in _LATEST_ELEMENTS]
    periods = [resource.get("effectivePeriod")]
    dosages = resource.get("dosageInstruction", resource.get("dosage"))
    for dosage in dosages if isinstance(dosages, list) else []:
        timing = dosage.get("timing") if is_object(dosage) else None
        repeat = timing.get("repeat") if is_object(timing) else None
        if is_object(repeat):
            periods.append(repeat.get("boundsPeriod"))
    for period in periods:
        if is_object(period):
            times += [period.get("end"), period.get("start")]
    parsed = [_parse_time(t, zone) for t in times if isinstance(t, str)]
    found = [t for t in parsed if t is not None]
    return max(found) if found else None


def _parse_time(text: str, zone: tzinfo) -> datetime | None:
    if len(text) == 4:  # a year
        text += "-01-01"
    elif len(text) == 7:  # a month
        text += "-01"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def resolve_medication(
    resource: Mapping[str, Any], medications: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    reference = resource.get("medicationReference")
    if not is_object(reference) or not isinstance(reference.get("reference"), str):
        return None
    target = str(reference["reference"])
    if target.startswith("#"):
        for contained in resource.get("contained") or []:
            if is_object(contained) and contained.get("id") == target[1:]:
                return contained
        return None
    if "://" in target:
        return None  # another server's Medication (this server's were made relative)
    parts = target.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    return medications.get("/".join(parts[-2:]))


def match_codeable(
    terminology: Terminology, resource_type: str, codeable: Any
) -> tuple[frozenset[str], MatchKind | None, str | None]:
    """Concepts a raw CodeableConcept belongs to: by code first, else by its text and displays.

    A LOINC-coded Observation outside the value sets is a different test: its words are not
    searched (CMAS/MMT-8 have no LOINC code, so a name match is only for local codes or text).
    """
    if type(codeable) is not dict and not is_object(codeable):
        return _NO_MATCH
    codings = codeable.get("coding")
    if type(codings) is not list:
        codings = codings if isinstance(codings, list) else []
    loinc_coded = False
    index = terminology.code_index  # read for every coding of thousands of resources
    for coding in codings:
        if type(coding) is not dict and not is_object(coding):
            continue
        system, code = coding.get("system"), coding.get("code")
        if isinstance(system, str) and isinstance(code, str):
            concepts = index.get((system, code, resource_type))
            if not concepts and may_reshape(system):  # try the canonical form (OIDs, ICD dots)
                system, code = canonical(system, code)
                concepts = index.get((system, code, resource_type))
            if concepts:
                return concepts, MatchKind.CODE, f"{system}|{code}"
            loinc_coded = loinc_coded or system == LOINC
    if (loinc_coded and resource_type == "Observation") or not terminology.has_names(resource_type):
        return _NO_MATCH
    texts = [codeable.get("text"), *(c.get("display") for c in codings if is_object(c))]
    concepts = terminology.match_text(
        resource_type, " ; ".join(t for t in texts if isinstance(t, str))
    )
    return (concepts, MatchKind.NAME, None) if concepts else _NO_MATCH


def match_components(
    terminology: Terminology, resource: Mapping[str, Any]
) -> tuple[frozenset[str], MatchKind | None, str | None]:
    """Concepts of an Observation's components (a vital-signs panel carrying a weight and a
    height): by code only, a panel's words being about the panel, not its parts."""
    components = resource.get("component")
    if type(components) is not list:
        return _NO_MATCH
    found: set[str] = set()
    first: str | None = None
    for component in components:
        if not is_object(component):
            continue
        concepts, matched_by, matched_code = match_codeable(
            terminology, "Observation", component.get("code")
        )
        if matched_by is MatchKind.CODE:
            found |= concepts
            first = first or matched_code
    return (frozenset(found), MatchKind.CODE, first) if found else _NO_MATCH


def note(
    resource_type: str, resource_id: Any, reason: str, category: str, concept: str | None = None
) -> DataQualityNote:
    return DataQualityNote(
        resource_type,
        text_or_none(resource_id),
        reason,
        category,
        concept_key(concept) if concept is not None else None,
    )


def is_object(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """A JSON object. The dict test first: ABC checks cost ~1 µs, times thousands of elements."""
    return type(value) is dict or (value is not None and isinstance(value, Mapping))


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
