"""Data quality (docs/clinical/decision-model.md §5): records left out that could change a
recommendation.

Shown: records that failed to parse or had units/values the mapping would not guess, when they are
of a kind the rules read (a weight, a creatinine, a drug exposure...); records of another patient
(the EHR sent them; they were not used); and the gathering step's notes (a search cut short, a
fetch that failed), since missing data can hide any finding; and stale problem-list entries
(:mod:`cds_service.rules.stale_problems`), with the later results that contradict them. Not shown:
codes the service does not know (most of any record) - those cannot change a recommendation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.history.model import DataQualityNote, SourceRef, TherapyHistory
from cds_service.knowledge.concepts import AGENTS, MEASUREMENT_CONCEPTS
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.text_contract import RECORD_KINDS
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Fact, Finding, unique_refs
from cds_service.rules.stale_problems import StaleProblem, thresholds_used

RULE_ID = "data_quality"

# What the rules read; a note about one of these could change a card.
DECISION_CONCEPTS = frozenset(
    {
        "jdm",
        "dermatomyositis",
        "muscle-weakness",
        "dysphagia",
        "dysphonia",
        "aspiration",
        "ild",
        "skin-ulceration",
        "gi-vasculopathy",
        "myocarditis",
        "iga-deficiency",
        "anti-iga",
        "anti-mda5",
        "renal-impairment",
        "thrombosis",
        "thrombophilia",
        "central-venous-catheter",
        "immobility",
        "heart-failure",
        "migraine",
        "weight",
        "height",
        "iga",
        "creatinine",
        "egfr",
        "ck",
        "esr",
        "crp",
        "cmas",
        "mmt8",
        "methylprednisolone-iv",
        "glucocorticoid-oral",
        "methotrexate",
        "ivig",
        "rituximab",
        "estrogen",
        "ecg",
        "echocardiogram",
        "pft",
        "vfss",
        "live-vaccine",
        "immune-globulin",
        "blood-group",
    }
)
DECISION_TYPES = frozenset(RECORD_KINDS)  # each has its words on the data-quality card
ALWAYS_SHOWN = frozenset(
    {"unparseable", "other-patient", "conflict", "unread-medication", "unread-allergy"}
)


@dataclass(frozen=True)
class DataQualitySubject:
    notes: tuple[DataQualityNote, ...]  # records left out that could change a card
    gather_notes: tuple[str, ...]  # what the gathering step could not get
    stale: tuple[StaleProblem, ...] = ()  # old problem-list entries later results contradict

    @property
    def count(self) -> int:
        return len(self.notes) + len(self.gather_notes) + len(self.stale)


def relevant(
    note: DataQualityNote, history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> bool:
    """Could this left-out record change a card? Not when a newer usable value supersedes it,
    not a dose no rule reads (decision.json dataQualityDoseAgents), not a medicine record older
    than data_quality_therapy_months (an order stopped years ago)."""
    if note.concept is None:
        return note.category in ALWAYS_SHOWN and note.resource_type in DECISION_TYPES
    if note.concept not in DECISION_CONCEPTS:
        return False
    if note.concept in AGENTS:
        if note.category == "unit" and note.concept not in knowledge.decision.dose_agents:
            return False
        window = knowledge.threshold("data_quality_therapy_months")
        return note.at is None or window.crossed_by_elapsed(note.at, now)
    newest = history.latest(note.concept) if note.concept in MEASUREMENT_CONCEPTS else None
    superseded = note.at is not None and newest is not None and newest.at > note.at
    return not superseded


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    history = context.history
    notes = tuple(note for note in history.data_quality if relevant(note, history, knowledge, now))
    stale = context.stale_problems
    if not notes and not context.gather_notes and not stale:
        return ()
    facts = [Fact("left_out", note.category, None, note.at, note_ref(note)) for note in notes]
    for entry in stale:
        problem = entry.problem
        facts.append(Fact("stale_problem", problem.concept, None, entry.since, problem.source))
        facts += [Fact.of(m.concept, m) for m in entry.results]
    # The left-out records are what this card is about, so they are its evidence; no other
    # card ever cites them. A stale entry comes with the results that contradict it.
    refs = [ref for note in notes if (ref := note_ref(note)) is not None]
    refs += [entry.problem.source for entry in stale]
    refs += [m.source for entry in stale for m in entry.results]
    only_stale = not notes and not context.gather_notes
    return (
        Finding(
            topic="data-quality",
            rule_id=RULE_ID,
            resources=unique_refs(refs),
            facts=tuple(facts),
            thresholds=thresholds_used(knowledge) if stale else (),
            subject=DataQualitySubject(notes, context.gather_notes, stale),
            summary_variant="stale" if only_stale else "default",
        ),
    )


def note_ref(note: DataQualityNote) -> SourceRef | None:
    # another patient's resource id is an identifier from another chart: never shown on this one
    if not note.resource_id or note.category == "other-patient":
        return None
    return SourceRef(note.resource_type, note.resource_id)
