"""``GET /order-sets`` and ``GET /order-sets/<id>``: FHIR JSON or HTML by content negotiation.

``Accept: application/fhir+json`` or ``application/json`` (or none, or ``*/*``) -> the
PlanDefinition as ``application/fhir+json``; ``text/html`` (browsers) -> the HTML page. FHIR's
``_format`` query parameter (``json`` / ``html``) overrides the header. An unknown id -> 404, an
Accept header naming only types we cannot produce -> 406; both as an OperationOutcome.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request

from cds_service.errors import operation_outcome
from cds_service.knowledge.order_sets import OrderSet
from cds_service.web.order_set_html import render_html, render_index_html
from cds_service.web.state import state

FHIR_JSON = "application/fhir+json"
JSON = "application/json"
HTML = "text/html"
OFFERED = (FHIR_JSON, JSON, HTML)
FORMATS = {"json": FHIR_JSON, FHIR_JSON: FHIR_JSON, JSON: FHIR_JSON, "html": HTML, HTML: HTML}

order_sets_blueprint = Blueprint("order_sets", __name__)


@order_sets_blueprint.get("/order-sets/<order_set_id>")
def get_order_set(order_set_id: str) -> Response:
    wanted = _negotiate()
    if wanted is None:
        return _not_acceptable()
    order_set = _order_sets().get(order_set_id)
    if order_set is None:
        return _outcome(404, "not-found", "no order set with this id; see /order-sets")
    if wanted == HTML:
        page = render_html(order_set, _public_base_url())
        return _cacheable(Response(page, mimetype=HTML))
    return _cacheable(_fhir_json(order_set.as_fhir()))


@order_sets_blueprint.get("/order-sets")
@order_sets_blueprint.get("/order-sets/")
def list_order_sets() -> Response:
    wanted = _negotiate()
    if wanted is None:
        return _not_acceptable()
    order_sets = list(_order_sets().values())
    base = _public_base_url()
    if wanted == HTML:
        return _cacheable(Response(render_index_html(order_sets, base), mimetype=HTML))
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(order_sets),
        "entry": [
            {"fullUrl": f"{base}/order-sets/{o.id}", "resource": o.as_fhir()} for o in order_sets
        ],
    }
    return _cacheable(_fhir_json(bundle))


def _order_sets() -> Mapping[str, OrderSet]:
    return state().knowledge.order_sets


def _public_base_url() -> str:
    # the configured public URL, as on the cards' links (behind a proxy it is the proxy's)
    return state().settings.public_base_url.rstrip("/")


def _negotiate() -> str | None:
    requested = request.args.get("_format")
    if requested is not None:
        return FORMATS.get(requested)
    if not request.accept_mimetypes:
        return FHIR_JSON
    best = request.accept_mimetypes.best_match(OFFERED)
    return FHIR_JSON if best == JSON else best


def _fhir_json(body: Mapping[str, Any]) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), mimetype=FHIR_JSON)


def _cacheable(response: Response) -> Response:
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == HTML:
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
        )
    response.add_etag()
    response.make_conditional(request)  # 304 when the client's ETag matches
    return response


def _not_acceptable() -> Response:
    return _outcome(
        406, "not-supported", f"cannot produce the requested type; offered: {', '.join(OFFERED)}"
    )


def _outcome(status: int, code: str, diagnostics: str) -> Response:
    response = _fhir_json(operation_outcome(code, diagnostics))
    response.status_code = status
    return response
