"""The draft orders of an ``order-select`` / ``order-sign`` context, checked before any work.

``context.draftOrders`` must be a Bundle (OpenAPI ``DraftOrders``); ``order-select`` also needs
``context.selections``, each naming an order of that Bundle. A fault is a 400 naming the field:
``context.draftOrders.entry[0].resource: 'resourceType' is a required property``,
``context.selections[0]: names no order in context.draftOrders``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cds_service.errors import SchemaViolationError
from cds_service.web.openapi import validate

CONTEXT_SCHEMAS = {"order-sign": "OrderSignContext", "order-select": "OrderSelectContext"}


@dataclass(frozen=True)
class DraftOrders:
    """The orders to check (in the Bundle's order) and every resource of the Bundle."""

    to_check: tuple[Mapping[str, Any], ...]  # MedicationRequests
    resources: tuple[Mapping[str, Any], ...]  # all entries (Medications, other drafts ...)


def draft_orders(hook: str, context: Mapping[str, Any]) -> DraftOrders:
    """The MedicationRequests to check: all of them on order-sign, the selected ones on
    order-select. Raises SchemaViolationError naming the field."""
    try:
        validate(context, CONTEXT_SCHEMAS[hook])
    except SchemaViolationError as error:
        raise SchemaViolationError(f"context.{error}") from None
    resources = tuple(entry["resource"] for entry in context["draftOrders"].get("entry") or [])
    requests = tuple(r for r in resources if r["resourceType"] == "MedicationRequest")
    if hook != "order-select":
        return DraftOrders(requests, resources)
    named = {f"{r['resourceType']}/{r['id']}": r for r in resources if isinstance(r.get("id"), str)}
    for index, selection in enumerate(context["selections"]):
        if selection not in named:
            raise SchemaViolationError(
                f"context.selections[{index}]: names no order in context.draftOrders"
            )
    selected = {s for s in context["selections"] if s.startswith("MedicationRequest/")}
    return DraftOrders(
        tuple(r for r in requests if f"MedicationRequest/{r.get('id')}" in selected), resources
    )
