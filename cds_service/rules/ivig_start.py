"""IVIG as the next step (docs/clinical/decision-model.md §3), and ``weight-needed`` without a
weight.

``ivig-start`` fires when the disease is to be escalated (see :mod:`refractory`), no IVIG was given
within the recency window, and IVIG is not already failing (then ``escalate-after-ivig`` fires
instead, never both). Indicator case: ``hardStop`` with a hard stop, ``redFlag`` with a red flag,
else ``default``. The dose needs a usable weight; without one the card gives the regimen in g/kg
only and ``weight-needed`` says what is wrong with the weight on record. While a record of the
IVIG look-back could be an infusion the service cannot read, the draft order is withheld and the
card says why (``draftWithheld``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.dosing import WeightAssessment
from cds_service.history.model import TherapyHistory
from cds_service.knowledge.concepts import MeasurementConcept
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, unique_refs
from cds_service.rules.refractory import DiseaseAssessment

RULE_ID = "ivig_start"
# the results the safety checks read, shown fired or not (the card's "checked values")
CHECKED_MEASUREMENTS: tuple[MeasurementConcept, ...] = ("egfr", "creatinine", "iga")


@dataclass(frozen=True)
class IvigStartSubject:
    disease: DiseaseAssessment
    history: TherapyHistory  # for the line of results the checks read


@dataclass(frozen=True)
class WeightNeededSubject:
    weight: WeightAssessment


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    if not context.ivig_starting:
        return ()
    disease, weight, dose = context.disease, context.weight, context.ivig_dose
    hard_stops = context.hard_stops
    facts = list(disease.facts) + list(checked_facts(context.history))
    if weight.weight is not None:
        facts.insert(0, Fact.of("weight_kg", weight.weight))
    if hard_stops:  # the ivig-contraindicated topic has one case and one summary
        variant, case = "default", "default"
    else:
        variant = "dose" if dose is not None else "noDose"
        case = "redFlag" if disease.red_flags else "default"
    withheld = bool(context.unread_infusions)  # an infusion unread could make a draft wrong
    by_specialist = context.draft_by_specialist(knowledge)  # the product is a specialist's choice
    drafted = not (hard_stops or dose is None or withheld or by_specialist)
    suggest: tuple[str, ...] = ("ivig-draft", "ivig-baseline") if drafted else ("ivig-baseline",)
    if hard_stops:  # no baseline orders either: pre-IVIG serology is for an IVIG course
        suggest = ()
    status = context.ivig
    start = Finding(
        # a hard stop makes it a card about the contraindication, not an IVIG start
        # (docs/clinical/safety.md, hard stops): no start wording, no infusion order set
        topic="ivig-contraindicated" if hard_stops else "ivig-start",
        rule_id=RULE_ID,
        indicator_case=case,
        resources=unique_refs(
            disease.resources + status.resources + tuple(m.source for m in weight.measurements)
        ),
        facts=tuple(facts),
        thresholds=disease.thresholds + status.thresholds,
        dose=None if hard_stops else dose,
        safety_checks=context.safety_checks,
        subject=IvigStartSubject(disease, context.history),
        summary_variant=variant,
        suggest=suggest,
        note_keys=(
            *(("draftWithheld",) if withheld and not hard_stops else ()),
            *(("draftBySpecialist",) if by_specialist and not hard_stops else ()),
            *(
                ("methotrexateStopped",)
                if disease.methotrexate_stopped_at is not None and not hard_stops
                else ()
            ),
        ),
    )
    if weight.usable or hard_stops:  # no weight is needed for a course that is not to be given
        return (start,)
    return (start, weight_needed(weight))


def checked_facts(history: TherapyHistory) -> tuple[Fact, ...]:
    """The latest values the checks read, fired or not (an auditor sees what was checked)."""
    facts = [Fact.of(c, m) for c in CHECKED_MEASUREMENTS if (m := history.latest(c)) is not None]
    groups = sorted(
        (r for r in history.coded_results if r.concept == "blood-group"), key=lambda r: r.at
    )
    if groups:
        group = groups[-1]
        facts.append(Fact("blood_group", group.value, None, group.at, group.source))
    return tuple(facts)


def weight_needed(weight: WeightAssessment) -> Finding:
    """The card that asks for a current weight, naming what is wrong with the one on record."""
    return Finding(
        topic="weight-needed",
        rule_id=RULE_ID,
        resources=unique_refs(m.source for m in weight.measurements),
        facts=tuple(Fact.of("weight_kg", m) for m in weight.measurements),
        subject=WeightNeededSubject(weight),
    )
