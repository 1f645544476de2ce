"""Draft orders offered on cards: FHIR R4 resources (status draft, intent proposal).

- ``ivig-draft``: the IVIG MedicationRequest for the course (never without a usable weight or with
  a hard stop: the rule leaves the kind out then);
- ``ivig-baseline``: one ServiceRequest per order of the ``ivig-baseline`` order set;
- ``rituximab-baseline``: hepatitis B serology and a baseline IgG before the first rituximab dose;
- ``vfss``: the swallow study from ``jdm-reevaluation``;
- ``ecg`` / ``echocardiogram`` / ``pft``: the missing organ screens from ``jdm-extramuscular``.
"""

from __future__ import annotations

import uuid
from typing import Any

from cds_service.card_builder.drafts import ivig_medication_request
from cds_service.card_builder.order_set_drafts import draft_service_requests
from cds_service.card_builder.wire import Suggestion
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import Finding

EXTRAMUSCULAR = ("ecg", "echocardiogram", "pft")


def suggestions(finding: Finding, knowledge: Knowledge, patient_id: str) -> list[Suggestion]:
    drafted: list[Suggestion] = []
    kinds = set(finding.suggest)
    if "ivig-draft" in kinds and finding.dose is not None:
        drafted.append(_ivig_draft(finding, knowledge, patient_id))
    if "ivig-baseline" in kinds:
        drafted.append(
            _order_set_suggestion(
                knowledge,
                "ivig-baseline",
                patient_id,
                None,
                knowledge.texts.phrase("suggestion.ivigBaseline"),
            )
        )
    if "rituximab-baseline" in kinds:
        drafted.append(
            _order_set_suggestion(
                knowledge,
                "rituximab-baseline",
                patient_id,
                None,
                knowledge.texts.phrase("suggestion.rituximabBaseline"),
            )
        )
    if "vfss" in kinds:
        drafted.append(
            _order_set_suggestion(
                knowledge,
                "jdm-reevaluation",
                patient_id,
                {"vfss"},
                knowledge.texts.phrase("suggestion.vfss"),
            )
        )
    screens = [kind for kind in EXTRAMUSCULAR if kind in kinds]
    if screens:
        drafted.append(
            _order_set_suggestion(
                knowledge,
                "jdm-extramuscular",
                patient_id,
                set(screens),
                knowledge.texts.phrase("suggestion.organScreen"),
            )
        )
    return [s for s in drafted if s["actions"]]


def _ivig_draft(finding: Finding, knowledge: Knowledge, patient_id: str) -> Suggestion:
    dose = finding.dose
    resource = ivig_medication_request(dose, patient_id, knowledge.texts)
    evidence = dose.evidence()
    label = knowledge.texts.phrase(
        "suggestion.ivigDraft",
        per_day=str(evidence.get("perDayG")),
        days=str(evidence.get("days")),
        total=str(evidence.get("courseTotalG")),
    )
    return {
        "label": label,
        "uuid": str(uuid.uuid4()),
        "isRecommended": True,
        "actions": [{"type": "create", "description": label, "resource": resource}],
    }


def _order_set_suggestion(
    knowledge: Knowledge, set_id: str, patient_id: str, only: set[str] | None, label: str
) -> Suggestion:
    requests = draft_service_requests(knowledge.order_sets[set_id], patient_id, only=only)
    return {
        "label": label,
        "uuid": str(uuid.uuid4()),
        "actions": [
            {"type": "create", "description": _describe(request), "resource": request}
            for request in requests
        ],
    }


def _describe(request: dict[str, Any]) -> str:
    code = request.get("code", {})
    text = code.get("text") or next(
        (c.get("display") for c in code.get("coding", []) if c.get("display")), None
    )
    return f"Draft order: {text}" if text else "Draft order"
