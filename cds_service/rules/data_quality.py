"""Data quality (decision-model.md section 5): records left out that could change a recommendation.

Shown: records that failed to parse or had units/values the mapping would not guess, when they are
of a kind the rules read (a weight, a creatinine, a drug exposure...); records of another patient
(the EHR sent them; they were not used); and the gathering step's notes (a search cut short, a
fetch that failed), since missing data can hide any finding. Not shown: codes the service does not
know (most of any record) - those cannot change a recommendation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cds_service.history.model import DataQualityNote, SourceRef, TherapyHistory
from cds_service.knowledge import Knowledge
from cds_service.rules.findings import Fact, Finding, Indicator, unique_refs

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
DECISION_TYPES = frozenset(
    {
        "Patient",
        "Condition",
        "Observation",
        "MedicationRequest",
        "MedicationAdministration",
        "MedicationStatement",
        "Medication",
        "Procedure",
        "Immunization",
        "AllergyIntolerance",
        "ServiceRequest",
        "Bundle",
    }
)
ALWAYS_SHOWN = frozenset({"unparseable", "other-patient"})


def relevant(note: DataQualityNote) -> bool:
    if note.concept is not None:
        return note.concept in DECISION_CONCEPTS
    return note.category in ALWAYS_SHOWN and note.resource_type in DECISION_TYPES


def evaluate(
    history: TherapyHistory,
    knowledge: Knowledge,
    now: datetime,
    gather_notes: Sequence[str] = (),
) -> tuple[Finding, ...]:
    notes = [note for note in history.data_quality if relevant(note)]
    if not notes and not gather_notes:
        return ()
    lines = [_line(note) for note in notes] + [f"- Data gathering: {text}" for text in gather_notes]
    facts = [Fact("left_out", note.category, None, None, None) for note in notes]
    # A left-out resource was never used, so it is named in the text and facts, not as a source
    # of the card's evidence (an auditor must not read it as "used").
    return (
        Finding(
            topic="data-quality",
            indicator=Indicator.INFO,
            rule_id=RULE_ID,
            resources=unique_refs(()),
            facts=tuple(facts),
            texts={"count": str(len(notes) + len(gather_notes))},
            notes=tuple(lines),
        ),
    )


def _line(note: DataQualityNote) -> str:
    ref = SourceRef(note.resource_type, note.resource_id or "(no id)").reference
    about = f" (would inform: {note.concept})" if note.concept else ""
    return f"- {ref}: {note.reason} [{note.category}]{about}"
