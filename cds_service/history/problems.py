"""Condition -> :class:`Problem`, one per matched concept.

Refuted and entered-in-error Conditions never become problems. A Condition is active when its
clinicalStatus is active, recurrence or relapse. Without a clinicalStatus (allowed for an
encounter diagnosis) it counts as active unless it has an abatement, and a note says so.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, tzinfo

from cds_service.history.dates import clock_zone, to_datetime
from cds_service.history.model import DataQualityNote, MatchKind, Problem, SourceRef
from cds_service.history.parse import ParsedResource
from cds_service.knowledge.concepts import concept_key, problem_concept

ACTIVE_STATUSES = frozenset({"active", "recurrence", "relapse"})
IGNORED_VERIFICATION = frozenset({"refuted", "entered-in-error"})


def map_problems(
    conditions: tuple[ParsedResource, ...], now: datetime, birth_date: date | None = None
) -> tuple[Problem, ...]:
    """Problems by concept; an onset given as an age (onsetAge) needs the birth date."""
    problems: list[Problem] = []
    for parsed in conditions:
        condition = parsed.model
        clinical = _first_code(condition.clinicalStatus)
        verification = _first_code(condition.verificationStatus)
        if verification in IGNORED_VERIFICATION:
            continue
        zone = clock_zone(now)
        onset = (
            to_datetime(condition.onsetDateTime, zone)
            or to_datetime(getattr(condition.onsetPeriod, "start", None), zone)
            or _onset_from_age(condition.onsetAge, birth_date, zone)
        )
        abated = to_datetime(condition.abatementDateTime, zone) or to_datetime(
            getattr(condition.abatementPeriod, "end", None), zone
        )
        abatement = abated is not None or _has_abatement(condition)
        active = clinical in ACTIVE_STATUSES or (clinical is None and not abatement)
        for concept in sorted(parsed.concepts):
            problems.append(
                Problem(
                    concept=problem_concept(concept),
                    display=_display(condition.code) or concept,
                    active=active,
                    clinical_status=clinical,
                    verification_status=verification,
                    onset=onset,
                    recorded=to_datetime(condition.recordedDate, zone),
                    abated=abated,
                    code=parsed.matched_code,
                    matched_by=parsed.matched_by or MatchKind.CODE,
                    source=SourceRef("Condition", parsed.resource_id or ""),
                    severe=_severe(condition),
                )
            )
    return tuple(sorted(problems, key=lambda p: (p.concept, p.source)))


SEVERE_CODE = "24484000"  # SNOMED CT Severe (severity modifier), as FHIR's condition-severity


def _severe(condition: object) -> bool:
    """Condition.severity is severe: the SNOMED code, or the word in its text or display."""
    severity = getattr(condition, "severity", None)
    if severity is None:
        return False
    codings = getattr(severity, "coding", None) or []
    if any(getattr(c, "code", None) == SEVERE_CODE for c in codings):
        return True
    words = [getattr(severity, "text", None)] + [getattr(c, "display", None) for c in codings]
    return any(w is not None and w.strip().lower() == "severe" for w in words)


def _onset_from_age(age: object, birth_date: date | None, zone: tzinfo) -> datetime | None:
    """The date the patient reached the stated age, in whole months: 12.5 years -> 150 months
    after birth. Never later than the true onset, so "onset before 18" is never wrongly denied.
    """
    value, unit = getattr(age, "value", None), getattr(age, "code", None)
    months_per_unit = {"a": 12, "mo": 1}.get(str(unit))
    if birth_date is None or value is None or value < 0 or months_per_unit is None:
        return None
    months = birth_date.month - 1 + int(value * months_per_unit)
    year, month = birth_date.year + months // 12, months % 12 + 1
    day = min(birth_date.day, calendar.monthrange(year, month)[1])
    return datetime(year, month, day, tzinfo=zone)


def problem_notes(conditions: tuple[ParsedResource, ...]) -> tuple[DataQualityNote, ...]:
    """Conditions whose activity was read from something other than their clinicalStatus."""
    notes = []
    for parsed in conditions:
        condition = parsed.model
        if _first_code(condition.verificationStatus) in IGNORED_VERIFICATION:
            continue
        if _first_code(condition.clinicalStatus) is None:
            reason = (
                "no clinicalStatus: counted as resolved (an abatement is recorded)"
                if _has_abatement(condition)
                else "no clinicalStatus and no abatement: counted as active"
            )
            for concept in sorted(parsed.concepts):
                notes.append(
                    DataQualityNote(
                        "Condition", parsed.resource_id, reason, "other", concept_key(concept)
                    )
                )
    return tuple(notes)


def _has_abatement(condition: object) -> bool:
    return any(
        getattr(condition, element, None) not in (None, False)
        for element in (
            "abatementDateTime",
            "abatementPeriod",
            "abatementAge",
            "abatementRange",
            "abatementString",
            "abatementBoolean",
        )
    )


def _first_code(codeable: object) -> str | None:
    for coding in getattr(codeable, "coding", None) or []:
        if coding.code:
            return str(coding.code)
    return None


def _display(codeable: object) -> str | None:
    text = getattr(codeable, "text", None)
    if text:
        return str(text)
    for coding in getattr(codeable, "coding", None) or []:
        if coding.display:
            return str(coding.display)
    return None
