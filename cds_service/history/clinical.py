"""Procedures, immunizations and allergies that bear on the cards.

* Procedure (completed, in-progress) and ServiceRequest (active, completed) -> ProcedureFact.
* Immunization (completed) with a live vaccine -> ImmunizationFact.
* AllergyIntolerance to immune globulin, unless resolved/inactive or refuted -> AllergyFact;
  severe when criticality is high, a reaction is severe, or a manifestation is anaphylaxis.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.history.dates import clock_zone, period_start, to_datetime
from cds_service.history.model import (
    AllergyFact,
    ImmunizationFact,
    ProcedureFact,
    SourceRef,
)
from cds_service.history.parse import ParsedResource
from cds_service.knowledge.concepts import (
    PROCEDURE_CONCEPTS,
    allergy_concept,
    immunization_concept,
)
from cds_service.knowledge.history_policy import HistoryPolicy

PROCEDURE_STATUSES = frozenset({"completed", "in-progress"})
SERVICE_REQUEST_STATUSES = frozenset({"active", "completed"})


def map_procedures(
    procedures: tuple[ParsedResource, ...], requests: tuple[ParsedResource, ...], now: datetime
) -> tuple[ProcedureFact, ...]:
    zone = clock_zone(now)
    facts: list[ProcedureFact] = []
    for parsed in procedures:
        model = parsed.model
        if model.status not in PROCEDURE_STATUSES:
            continue
        at = to_datetime(model.performedDateTime, zone) or period_start(model.performedPeriod, zone)
        facts.extend(_facts(parsed, at, str(model.status)))
    for parsed in requests:
        model = parsed.model
        if model.status not in SERVICE_REQUEST_STATUSES:
            continue
        at = to_datetime(model.occurrenceDateTime, zone) or to_datetime(model.authoredOn, zone)
        facts.extend(_facts(parsed, at, str(model.status)))
    return tuple(sorted(facts, key=lambda f: (f.at is None, f.at, f.concept, f.source)))


def _facts(parsed: ParsedResource, at: datetime | None, status: str) -> list[ProcedureFact]:
    source = SourceRef(parsed.resource_type, parsed.resource_id or "")
    return [
        ProcedureFact(concept, at, status, source)
        for concept in sorted(parsed.concepts)
        if concept in PROCEDURE_CONCEPTS
    ]


def map_immunizations(
    immunizations: tuple[ParsedResource, ...], now: datetime
) -> tuple[ImmunizationFact, ...]:
    zone = clock_zone(now)
    facts = []
    for parsed in immunizations:
        model = parsed.model
        if model.status != "completed":
            continue
        codeable = model.vaccineCode
        display = codeable.text or next(
            (c.display for c in codeable.coding or [] if c.display), "vaccine"
        )
        for concept in sorted(parsed.concepts):
            facts.append(
                ImmunizationFact(
                    concept=immunization_concept(concept),
                    vaccine=str(display),
                    code=parsed.matched_code,
                    at=to_datetime(model.occurrenceDateTime, zone),
                    source=SourceRef("Immunization", parsed.resource_id or ""),
                )
            )
    return tuple(sorted(facts, key=lambda f: (f.at is None, f.at, f.source)))


def map_allergies(
    allergies: tuple[ParsedResource, ...], policy: HistoryPolicy
) -> tuple[AllergyFact, ...]:
    facts = []
    for parsed in allergies:
        model = parsed.model
        if _code(model.clinicalStatus) in ("inactive", "resolved"):
            continue
        if _code(model.verificationStatus) == "refuted":
            continue
        severe, description = _severity(model, policy)
        for concept in sorted(parsed.concepts):
            source = SourceRef("AllergyIntolerance", parsed.resource_id or "")
            facts.append(AllergyFact(allergy_concept(concept), severe, description, source))
    return tuple(sorted(facts, key=lambda f: f.source))


def _severity(model: object, policy: HistoryPolicy) -> tuple[bool, str]:
    reasons = []
    if getattr(model, "criticality", None) == "high":
        reasons.append("criticality high")
    for reaction in getattr(model, "reaction", None) or []:
        for manifestation in reaction.manifestation or []:
            tokens = {f"{c.system}|{c.code}" for c in manifestation.coding or []}
            words = " ".join(
                [manifestation.text or ""] + [c.display or "" for c in manifestation.coding or []]
            ).lower()
            if tokens & policy.anaphylaxis_codes or any(
                stem in words for stem in policy.anaphylaxis_names
            ):
                reasons.append("anaphylaxis")
        if reaction.severity == "severe":
            reasons.append("severe reaction")
    unique = list(dict.fromkeys(reasons))
    if unique:  # each reason names the severity already
        return True, ", ".join(unique)
    return False, "allergy or intolerance (not severe)"


def _code(codeable: object) -> str | None:
    for coding in getattr(codeable, "coding", None) or []:
        if coding.code:
            return str(coding.code)
    return None
