"""Pregnancy and contraception (docs/clinical/safety.md, pregnancy): notes on the cards that name
methotrexate, cyclophosphamide, mycophenolate or rituximab.

Not a rule of its own: :func:`annotate` runs over the other rules' findings. A topic whose text in
``cards/card-texts.json`` has a ``pregnancy`` note names one of those agents; a pregnancy on record
(an active pregnancy Condition) adds that note and its evidence. A topic with a ``contraception``
note offers cyclophosphamide, mycophenolate or rituximab; a female patient of child-bearing
potential (``childbearing_potential_age_years``) who is not known to be pregnant gets that note
(a pregnancy test before the first dose, and contraception). In pregnancy, rituximab on the
escalation card is a specialist's decision only: no rituximab dose and no draft orders for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from cds_service.history.model import CodedResult, Problem, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.escalate_after_ivig import BEFORE_RITUXIMAB, RITUXIMAB_ORDERS
from cds_service.rules.findings import Fact, Finding, ThresholdUse, unique_refs

PREGNANCY_NOTE = "pregnancy"
CONTRACEPTION_NOTE = "contraception"


@dataclass(frozen=True)
class PregnancyStatus:
    problems: tuple[Problem, ...]  # active pregnancy Conditions
    tests: tuple[CodedResult, ...]  # the latest pregnancy test, when positive and recent
    childbearing: bool  # female and at least the threshold age

    @property
    def pregnant(self) -> bool:
        return bool(self.problems or self.tests)

    @property
    def facts(self) -> tuple[Fact, ...]:
        found = [
            Fact(p.concept, p.display, None, p.onset or p.recorded, p.source) for p in self.problems
        ]
        found += [Fact(t.concept, t.value, None, t.at, t.source) for t in self.tests]
        return tuple(found)


def pregnancy_status(
    history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> PregnancyStatus:
    patient = history.patient
    threshold = knowledge.threshold("childbearing_potential_age_years")
    childbearing = (
        patient.sex == "female"
        and patient.age_years is not None
        and threshold.crossed(Decimal(patient.age_years))
    )
    recent = knowledge.threshold("pregnancy_test_recent_weeks")
    tests = sorted(
        (
            r
            for r in history.coded_results
            if r.concept == "pregnancy-test"
            and r.at <= now
            and recent.crossed_by_elapsed(r.at, now)
        ),
        key=lambda r: r.at,
    )
    positive = (tests[-1],) if tests and tests[-1].value == "positive" else ()
    return PregnancyStatus(history.active_problems("pregnancy"), positive, childbearing)


def annotate(
    findings: tuple[Finding, ...], history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> tuple[Finding, ...]:
    """The findings, with the pregnancy or contraception note where the topic's text has one."""
    status = pregnancy_status(history, knowledge, now)
    if not status.pregnant and not status.childbearing:
        return findings
    return tuple(_annotated(finding, status, knowledge) for finding in findings)


def _annotated(finding: Finding, status: PregnancyStatus, knowledge: Knowledge) -> Finding:
    text = knowledge.topic(finding.topic)
    notes = text.notes
    if status.pregnant and PREGNANCY_NOTE in notes:
        sources = [f.source for f in status.facts if f.source is not None]
        if RITUXIMAB_ORDERS in finding.suggest:  # rituximab only by a specialist decision now
            finding = replace(
                finding,
                dose=None,
                suggest=tuple(k for k in finding.suggest if k != RITUXIMAB_ORDERS),
                note_keys=tuple(k for k in finding.note_keys if k != BEFORE_RITUXIMAB),
            )
        if PREGNANCY_NOTE in text.summaries:  # a summary that says so
            finding = replace(finding, summary_variant=PREGNANCY_NOTE)
        return replace(
            finding,
            note_keys=(PREGNANCY_NOTE, *finding.note_keys),
            source_keys=finding.source_keys + text.note_sources.get(PREGNANCY_NOTE, ()),
            resources=unique_refs([*finding.resources, *sources]),
            facts=finding.facts + status.facts,
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
