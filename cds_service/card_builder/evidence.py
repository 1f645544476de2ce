"""The machine-readable evidence on every card: ``card.extension["org.jdm-cds.evidence"]``.

Shape (docs/clinical/card-contract.md): topic, ruleId, resources (sorted, unique), facts,
thresholds, dose (cards that state one), safetyChecks (the IVIG cards: ``ivig-start``,
``ivig-course-due``, ``ivig-contraindicated``, ``severe-organ-disease``), matchedByName. A list
with nothing in it is left out, as CDS Hooks and FHIR JSON do.
Numbers are JSON strings of Decimals; nothing is ever ``null``.
"""

from __future__ import annotations

from cds_service.card_builder.wire import Evidence, EvidenceFact, EvidenceThreshold
from cds_service.history.model import MatchKind, SourceRef, TherapyHistory
from cds_service.rules.findings import Fact, Finding, ThresholdUse

EVIDENCE_KEY = "org.jdm-cds.evidence"


# the cards that carry the IVIG safety checks (an IVIG course or an IVIG adjunct)
SAFETY_TOPICS = frozenset(
    {"ivig-start", "ivig-course-due", "ivig-contraindicated", "severe-organ-disease"}
)


def evidence(
    finding: Finding, history: TherapyHistory, diagnoses: tuple[SourceRef, ...] = ()
) -> Evidence:
    """The card's evidence; `diagnoses` adds the Conditions of a diagnosis that needs checking
    (read by name, or unconfirmed) to its resources."""
    resources = sorted({*finding.all_resources(), *(ref.reference for ref in diagnoses)})
    body: Evidence = {"topic": finding.topic, "ruleId": finding.rule_id}
    if resources:
        body["resources"] = resources
    if finding.facts:
        body["facts"] = [_fact(fact) for fact in finding.facts]
    if finding.thresholds:
        body["thresholds"] = [_threshold(used) for used in _unique(finding.thresholds)]
    if finding.dose is not None:
        body["dose"] = finding.dose.evidence()
    if finding.topic in SAFETY_TOPICS and finding.safety_checks:
        body["safetyChecks"] = [
            {"code": check.code, "effect": str(check.effect)} for check in finding.safety_checks
        ]
    by_name = sorted(set(resources) & _name_matched(history))
    if by_name:
        body["matchedByName"] = by_name
    return body


def _fact(fact: Fact) -> EvidenceFact:
    item: EvidenceFact = {"name": fact.name, "value": fact.value}
    if fact.unit:
        item["unit"] = fact.unit
    if fact.at is not None:
        item["at"] = fact.at.isoformat()
    if fact.source is not None:
        item["source"] = fact.source.reference
    return item


def _threshold(used: ThresholdUse) -> EvidenceThreshold:
    return {
        "name": used.name,
        "value": format(used.value, "f"),
        "unit": used.unit,
        "comparison": used.comparison,
        "sourceKey": used.source_key,
    }


def _unique(thresholds: tuple[ThresholdUse, ...]) -> list[ThresholdUse]:
    seen: dict[str, ThresholdUse] = {}
    for used in thresholds:
        seen.setdefault(used.name, used)
    return list(seen.values())


def _name_matched(history: TherapyHistory) -> set[str]:
    refs = {d.source.reference for d in history.dose_events if d.matched_by is MatchKind.NAME}
    refs |= {p.source.reference for p in history.problems if p.matched_by is MatchKind.NAME}
    return refs
