"""Draft ServiceRequests from an order set for card suggestions (status draft, intent proposal)."""

from __future__ import annotations

import copy
import re
from collections.abc import Set
from typing import Any

from cds_service.knowledge.order_sets import OrderSet

# FHIR id rules: a Patient/<id> reference must carry a valid id
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # used with fullmatch: no trailing newline


def draft_service_requests(
    order_set: OrderSet, patient_id: str, *, only: Set[str] | None = None
) -> list[dict[str, Any]]:
    """One draft ServiceRequest per ServiceRequest item, in the order set's order.

    ``only`` keeps the items with these ids (unknown ids raise KeyError, so a typo in a card text
    cannot silently drop an order). MedicationRequest items are not drafted here.
    Codings keep their verification mark (extension ``code-verification``), so a candidate code
    stays recognisable as one in the EHR.
    """
    if not FHIR_ID.fullmatch(patient_id):
        raise ValueError("patient_id is not a valid FHIR id")
    if only is not None:
        unknown = sorted(set(only) - set(order_set.item_ids))
        if unknown:
            raise KeyError(f"order set {order_set.id} has no item(s) {', '.join(unknown)}")
    drafts = []
    for item in order_set.items:
        if item.kind != "ServiceRequest" or (only is not None and item.id not in only):
            continue
        drafts.append(
            {
                "resourceType": "ServiceRequest",
                "status": "draft",
                "intent": "proposal",
                "instantiatesCanonical": [order_set.url],
                "code": _concept(item.concept),
                "subject": {"reference": f"Patient/{patient_id}"},
                "note": [{"text": f"{item.title}: {item.description}"}],
            }
        )
    return drafts


def _concept(concept: Any) -> dict[str, Any]:
    result: dict[str, Any] = copy.deepcopy(dict(concept))
    return result
