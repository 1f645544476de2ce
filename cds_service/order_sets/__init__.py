"""Order sets: FHIR PlanDefinitions under ``cards/order-sets/``, as data, drafts, JSON and HTML.

- :func:`load_order_sets` reads and validates them (FHIR R4B + the project's JSON Schema);
- :func:`draft_service_requests` turns an order set into draft ServiceRequests for a patient;
- :func:`render_html` renders one as a self-contained, escaped HTML page;
- :data:`order_sets_blueprint` serves ``GET /order-sets`` and ``GET /order-sets/<id>``.
"""

from cds_service.order_sets.drafts import draft_service_requests
from cds_service.order_sets.html import render_html, render_index_html
from cds_service.order_sets.http import order_sets_blueprint
from cds_service.order_sets.model import (
    ORDER_SET_IDS,
    Citation,
    CodeRef,
    OrderItem,
    OrderSet,
    load_order_sets,
)

__all__ = [
    "ORDER_SET_IDS",
    "Citation",
    "CodeRef",
    "OrderItem",
    "OrderSet",
    "draft_service_requests",
    "load_order_sets",
    "order_sets_blueprint",
    "render_html",
    "render_index_html",
]
