"""Condition -> :class:`Problem`, one per matched concept.

Refuted and entered-in-error Conditions never become problems. A Condition is active when its
clinicalStatus is active, recurrence or relapse; without a clinicalStatus it is not active
(FHIR requires one unless verificationStatus is entered-in-error).
"""

from __future__ import annotations

from datetime import datetime

from cds_service.fhir_parse import ParsedResource
from cds_service.history.dates import clock_zone, to_datetime
from cds_service.history.model import DataQualityNote, MatchKind, Problem, SourceRef

ACTIVE_STATUSES = frozenset({"active", "recurrence", "relapse"})
IGNORED_VERIFICATION = frozenset({"refuted", "entered-in-error"})


def map_problems(conditions: tuple[ParsedResource, ...], now: datetime) -> tuple[Problem, ...]:
    problems: list[Problem] = []
    for parsed in conditions:
        condition = parsed.model
        clinical = _first_code(condition.clinicalStatus)
        verification = _first_code(condition.verificationStatus)
        if verification in IGNORED_VERIFICATION:
            continue
        zone = clock_zone(now)
        onset = to_datetime(condition.onsetDateTime, zone) or to_datetime(
            getattr(condition.onsetPeriod, "start", None), zone
        )
        for concept in sorted(parsed.concepts):
            problems.append(
                Problem(
                    concept=concept,
                    display=_display(condition.code) or concept,
                    active=clinical in ACTIVE_STATUSES,
                    clinical_status=clinical,
                    verification_status=verification,
                    onset=onset,
                    recorded=to_datetime(condition.recordedDate, zone),
                    abated=to_datetime(condition.abatementDateTime, zone)
                    or to_datetime(getattr(condition.abatementPeriod, "end", None), zone),
                    code=parsed.matched_code,
                    matched_by=parsed.matched_by or MatchKind.CODE,
                    source=SourceRef("Condition", parsed.resource_id or ""),
                )
            )
    return tuple(sorted(problems, key=lambda p: (p.concept, p.source)))


def problem_notes(conditions: tuple[ParsedResource, ...]) -> tuple[DataQualityNote, ...]:
    """Conditions mapped as not active only because they carry no clinicalStatus."""
    notes = []
    for parsed in conditions:
        condition = parsed.model
        if _first_code(condition.verificationStatus) in IGNORED_VERIFICATION:
            continue
        if _first_code(condition.clinicalStatus) is None:
            for concept in sorted(parsed.concepts):
                reason = "no clinicalStatus: counted as not active"
                notes.append(
                    DataQualityNote("Condition", parsed.resource_id, reason, "other", concept)
                )
    return tuple(notes)


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
