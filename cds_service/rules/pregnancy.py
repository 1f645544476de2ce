"""Pregnancy and contraception (docs/clinical/safety.md, pregnancy): notes on the cards that name
methotrexate, cyclophosphamide, mycophenolate or rituximab.

Not a rule of its own: :func:`annotate` runs over the other rules' findings. A topic whose text in
``cards/card-texts.json`` has a ``pregnancy`` note names one of those agents; a pregnancy on record
(an active pregnancy Condition) adds that note and its evidence. A topic with a ``contraception``
note offers cyclophosphamide, mycophenolate or rituximab; a female patient of child-bearing
potential (``childbearing_potential_age_years``) who is not known to be pregnant gets that note
(a pregnancy test before the first dose, and contraception).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from cds_service.history.model import Problem, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import Fact, Finding, ThresholdUse, unique_refs

PREGNANCY_NOTE = "pregnancy"
CONTRACEPTION_NOTE = "contraception"


@dataclass(frozen=True)
class PregnancyStatus:
    evidence: tuple[Problem, ...]  # active pregnancy Conditions
    childbearing: bool  # female and at least the threshold age

    @property
    def pregnant(self) -> bool:
        return bool(self.evidence)


def pregnancy_status(history: TherapyHistory, knowledge: Knowledge) -> PregnancyStatus:
    patient = history.patient
    threshold = knowledge.threshold("childbearing_potential_age_years")
    childbearing = (
        patient.sex == "female"
        and patient.age_years is not None
        and threshold.crossed(Decimal(patient.age_years))
    )
    return PregnancyStatus(history.active_problems("pregnancy"), childbearing)


def annotate(
    findings: tuple[Finding, ...], history: TherapyHistory, knowledge: Knowledge
) -> tuple[Finding, ...]:
    """The findings, with the pregnancy or contraception note where the topic's text has one."""
    status = pregnancy_status(history, knowledge)
    if not status.pregnant and not status.childbearing:
        return findings
    return tuple(_annotated(finding, status, knowledge) for finding in findings)


def _annotated(finding: Finding, status: PregnancyStatus, knowledge: Knowledge) -> Finding:
    text = knowledge.topic(finding.topic)
    notes = text.notes
    if status.pregnant and PREGNANCY_NOTE in notes:
        facts = tuple(
            Fact(p.concept, p.display, None, p.onset or p.recorded, p.source)
            for p in status.evidence
        )
        return replace(
            finding,
            note_keys=(PREGNANCY_NOTE, *finding.note_keys),
            source_keys=finding.source_keys + text.note_sources.get(PREGNANCY_NOTE, ()),
            resources=unique_refs([*finding.resources, *(p.source for p in status.evidence)]),
            facts=finding.facts + facts,
        )
    if not status.pregnant and status.childbearing and CONTRACEPTION_NOTE in notes:
        threshold = ThresholdUse.of(knowledge.threshold("childbearing_potential_age_years"))
        return replace(
            finding,
            note_keys=(*finding.note_keys, CONTRACEPTION_NOTE),
            source_keys=finding.source_keys + text.note_sources.get(CONTRACEPTION_NOTE, ()),
            thresholds=(*finding.thresholds, threshold),
        )
    return finding
