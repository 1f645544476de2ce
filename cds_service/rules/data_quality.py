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

from cds_service.card_builder.markdown import md_escape
from cds_service.history.model import DataQualityNote, SourceRef, TherapyHistory
from cds_service.knowledge.loader import Knowledge
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

# which recommendation a left-out record of a concept could change ("say which")
AFFECTS: dict[str, str] = {
    "weight": "the IVIG dose (dosing weight)",
    "height": "the obesity adjustment and the rituximab BSA",
    "creatinine": "the renal safety check (rate, split, hard stop)",
    "egfr": "the renal safety check (rate, split, hard stop)",
    "iga": "the IgA-deficiency safety check",
    "blood-group": "the haemolysis note",
    "cmas": "whether the disease counts as active / a red flag",
    "mmt8": "whether the disease counts as active / a red flag",
    "ck": "IVIG monitoring",
    "esr": "IVIG monitoring",
    "crp": "IVIG monitoring",
    "methylprednisolone-iv": "whether first-line therapy was given",
    "glucocorticoid-oral": "first-line therapy and the steroid-taper check",
    "methotrexate": "the 12-week methotrexate trial (escalation timing)",
    "ivig": "IVIG recency and course count (ivig-start / escalate-after-ivig)",
}


def relevant(note: DataQualityNote, history: TherapyHistory) -> bool:
    """Could this left-out record change a card? Not when a newer usable value supersedes it."""
    if note.concept is None:
        return note.category in ALWAYS_SHOWN and note.resource_type in DECISION_TYPES
    if note.concept not in DECISION_CONCEPTS:
        return False
    newest = history.latest(note.concept)
    superseded = note.at is not None and newest is not None and newest.at > note.at
    return not superseded


def evaluate(
    history: TherapyHistory,
    knowledge: Knowledge,
    now: datetime,
    gather_notes: Sequence[str] = (),
) -> tuple[Finding, ...]:
    notes = [note for note in history.data_quality if relevant(note, history)]
    if not notes and not gather_notes:
        return ()
    lines = [_line(note) for note in notes] + [
        f"- Data gathering: {md_escape(text)}" for text in gather_notes
    ]
    facts = [Fact("left_out", note.category, None, note.at, _ref(note)) for note in notes]
    # The left-out records are what this card is about, so they are its evidence; no other
    # card ever cites them.
    return (
        Finding(
            topic="data-quality",
            indicator=Indicator.INFO,
            rule_id=RULE_ID,
            resources=unique_refs(ref for note in notes if (ref := _ref(note)) is not None),
            facts=tuple(facts),
            texts={"count": str(len(notes) + len(gather_notes))},
            notes=tuple(lines),
        ),
    )


def _ref(note: DataQualityNote) -> SourceRef | None:
    # another patient's resource id is an identifier from another chart: never shown on this one
    if not note.resource_id or note.category == "other-patient":
        return None
    return SourceRef(note.resource_type, note.resource_id)


def _line(note: DataQualityNote) -> str:
    shown_id = "(id withheld)" if note.category == "other-patient" else note.resource_id
    ref = SourceRef(note.resource_type, shown_id or "(no id)").reference
    if note.concept:
        affects = AFFECTS.get(note.concept, "the cards that read it")
        about = f" — could change {affects} (a {note.concept} record)"
    elif note.category == "other-patient":
        about = " — belongs to another patient: never used"
    else:
        about = " — its content is unknown, so it was not used"
    return f"- {md_escape(ref)}: {md_escape(note.reason)} ({note.category}){about}"
