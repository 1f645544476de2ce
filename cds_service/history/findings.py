"""Findings wherever they are recorded: a coded Observation, or words in free text.

A red flag such as dysphagia reaches the history as a Condition (:mod:`problems`), and also as:

- an **Observation whose code is the finding** (value sets of problem concepts apply to
  Observations too), or whose **coded value** is (a "symptom" Observation valued "dysphagia");
  a finding recorded as absent (``valueBoolean`` false, a value meaning no / absent / negative:
  ``cards/history.json`` ``finding_values``) is not a finding, by that written rule;
- a **phrase in free text** (``free_text_findings``): an Observation's text value or note, a
  Condition's note, the name of an uncoded Condition or Observation. Each becomes a TEXT match
  with its sentence quoted; a denied one ("no trouble swallowing") becomes a note instead.

Everything here reads raw JSON before validation; :func:`map_findings` then turns the
validated findings into :class:`Problem` values, current for ``observed_finding_active_days``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from cds_service.history.dates import clock_zone, to_datetime
from cds_service.history.model import DataQualityNote, MatchKind, Problem, SourceRef
from cds_service.history.screen import Screen
from cds_service.history.select import LOINC, Match, is_object, match_codeable, note
from cds_service.knowledge.concepts import PROBLEM_CONCEPTS, problem_concept
from cds_service.knowledge.history_policy import HistoryPolicy
from cds_service.knowledge.terminology import Terminology

_PROBLEMS = frozenset(PROBLEM_CONCEPTS)
COUNTING_STATUSES = frozenset({"final", "amended", "corrected", "preliminary", "registered"})


def is_finding(resource_type: str, matched_by: MatchKind | None, concepts: frozenset[str]) -> bool:
    """A match the history reads as a finding rather than a measurement or a coded problem."""
    if matched_by is MatchKind.TEXT:
        return True
    return resource_type == "Observation" and bool(concepts) and concepts <= _PROBLEMS


def coded_finding(terminology: Terminology, resource: Mapping[str, Any]) -> Match | None:
    """A match for an Observation whose coded value names a problem concept, unless absent."""
    value = resource.get("valueCodeableConcept")
    if not is_object(value):
        return None
    concepts, matched_by, matched_code = match_codeable(terminology, "Observation", value)
    concepts = concepts & _PROBLEMS
    if not concepts:
        return None
    return Match(resource, concepts, matched_by, matched_code, None)


def text_findings(
    resource: Mapping[str, Any], matched: bool, screen: Screen, notes: list[DataQualityNote]
) -> list[Match]:
    """A TEXT match per red-flag concept its free text names; a note per denied mention."""
    texts = _free_texts(resource, matched)
    if not texts:  # most records: a coded test with no note
        return []
    reader = screen.text_reader
    seen: set[str] = set()
    found_matches: list[Match] = []
    for text in texts:
        for found in reader.findings(text):
            if found.concept in seen:
                continue
            seen.add(found.concept)
            if found.negated:
                reason = f"free text mentions it, apparently denied: “{found.quote}” (not counted)"
                notes.append(
                    note(
                        str(resource["resourceType"]),
                        resource.get("id"),
                        reason,
                        "free-text",
                        found.concept,
                    )
                )
            else:
                found_matches.append(
                    Match(
                        resource,
                        frozenset({found.concept}),
                        MatchKind.TEXT,
                        None,
                        None,
                        quote=found.quote,
                    )
                )
    return found_matches


def _free_texts(resource: Mapping[str, Any], matched: bool) -> list[str]:
    """Free text of a Condition or Observation: notes and text values always; the name of one
    no value set matched, unless LOINC codes it (a LOINC test's name is not a finding)."""
    texts: list[str] = []
    annotations = resource.get("note")
    if annotations:
        for annotation in annotations if type(annotations) is list else ():
            if is_object(annotation) and isinstance(annotation.get("text"), str):
                texts.append(annotation["text"])
    value = resource.get("valueString")
    if isinstance(value, str):
        texts.append(value)
    if matched:
        return texts
    code = resource.get("code")
    if not is_object(code):
        return texts
    codings = code.get("coding")
    codings = [c for c in codings if is_object(c)] if type(codings) is list else []
    for coding in codings:
        if coding.get("system") == LOINC:
            return texts
    if isinstance(code.get("text"), str):
        texts.append(code["text"])
    for coding in codings:
        if isinstance(coding.get("display"), str):
            texts.append(coding["display"])
    return texts


def map_findings(
    findings: tuple[Any, ...], now: datetime, policy: HistoryPolicy
) -> tuple[Problem, ...]:
    """Validated findings -> problems, active while recent; absent ones are left out."""
    zone = clock_zone(now)
    problems = []
    for parsed in findings:
        model = parsed.model
        if parsed.resource_type == "Observation":
            if str(model.status) not in COUNTING_STATUSES or _absent(model, policy):
                continue
            at = _observed_at(model, zone)
        else:  # a Condition's note
            at = _note_time(model, zone) or to_datetime(model.recordedDate, zone)
        active = at is not None and now - at <= policy.observed_finding_active
        for concept in sorted(parsed.concepts):
            problems.append(
                Problem(
                    concept=problem_concept(concept),
                    display=_display(model, parsed.quote) or concept,
                    active=active,
                    clinical_status=None,
                    verification_status=None,
                    onset=at,
                    recorded=at,
                    abated=None,
                    code=parsed.matched_code,
                    matched_by=parsed.matched_by or MatchKind.CODE,
                    source=SourceRef(parsed.resource_type, parsed.resource_id or ""),
                    quote=parsed.quote,
                )
            )
    return tuple(problems)


def _absent(model: Any, policy: HistoryPolicy) -> bool:
    """Does the Observation say the finding it records is absent (finding_values)?"""
    if model.valueBoolean is False:
        return True
    value = model.valueCodeableConcept
    if value is not None:
        codes = {f"{c.system}|{c.code}" for c in value.coding or []}
        if codes & policy.absent_codes:
            return True
        if value.text and value.text.strip().lower() in policy.absent_words:
            return True
    text = model.valueString
    return isinstance(text, str) and text.strip().lower() in policy.absent_words


def _observed_at(model: Any, zone: tzinfo) -> datetime | None:
    period = getattr(model, "effectivePeriod", None)
    return (
        to_datetime(model.effectiveDateTime, zone)
        or to_datetime(getattr(period, "start", None), zone)
        or to_datetime(model.issued, zone)
    )


def _note_time(model: Any, zone: tzinfo) -> datetime | None:
    times = [to_datetime(n.time, zone) for n in model.note or [] if n.time is not None]
    found = [t for t in times if t is not None]
    return max(found) if found else None


def _display(model: Any, quote: str | None) -> str | None:
    if quote:
        return quote
    code = getattr(model, "valueCodeableConcept", None) or model.code
    if code is None:
        return None
    return code.text or next((c.display for c in code.coding or [] if c.display), None)
