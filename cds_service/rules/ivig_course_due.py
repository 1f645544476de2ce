"""On an IVIG trial, the next course overdue (docs/clinical/decision-model.md §4).

Fires when IVIG courses for JDM were started, the last began more than
``ivig_course_overdue_days`` ago (the regimen is monthly) but the trial has not lapsed, the
disease is still active and IVIG is not failing. The card asks for the next course, not a fresh
start: no baseline orders (pre-IVIG serology means nothing once IVIG has been given: passive
antibodies), the draft of the next course when a usable weight gives a dose and nothing unread or
contraindicating stands in the way. ``ivig-start`` never fires beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, unique_refs
from cds_service.rules.ivig_start import weight_needed
from cds_service.rules.refractory import DiseaseAssessment
from cds_service.rules.timeutil import weeks_between

RULE_ID = "ivig_course_due"


@dataclass(frozen=True)
class CourseDueSubject:
    disease: DiseaseAssessment
    courses_given: int  # counted JDM courses so far
    last_course_start: datetime
    weeks_since: Decimal  # one decimal, display


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    status, disease = context.ivig, context.disease
    if not (status.overdue and disease.active and not status.failing) or not status.courses:
        return ()
    last = status.courses[-1]
    hard_stops = context.hard_stops
    dose, weight = context.ivig_dose, context.weight
    if hard_stops:
        variant, case = "hardStop", "hardStop"
    else:
        variant, case = ("dose" if dose is not None else "noDose"), "default"
    withheld = bool(context.unread_infusions)
    by_specialist = context.draft_by_specialist(knowledge)  # the product is a specialist's choice
    drafted = not (hard_stops or dose is None or withheld or by_specialist)
    facts = [
        Fact("ivig_courses", str(len(status.courses)), "courses"),
        Fact("last_ivig_course_start", last.start.isoformat(), None, last.start),
        *disease.facts,
    ]
    if weight.weight is not None:
        facts.insert(0, Fact.of("weight_kg", weight.weight))
    due = Finding(
        topic="ivig-course-due",
        rule_id=RULE_ID,
        indicator_case=case,
        resources=unique_refs(
            disease.resources + status.resources + tuple(m.source for m in weight.measurements)
        ),
        facts=tuple(facts),
        thresholds=disease.thresholds + status.thresholds,
        dose=dose,
        safety_checks=context.safety_checks,
        subject=CourseDueSubject(
            disease, len(status.courses), last.start, weeks_between(last.start, now)
        ),
        summary_variant=variant,
        suggest=("ivig-draft",) if drafted else (),
        note_keys=(
            *(("draftWithheld",) if withheld and not hard_stops else ()),
            *(("draftBySpecialist",) if by_specialist and not hard_stops else ()),
        ),
    )
    return (due,) if weight.usable else (due, weight_needed(weight))
