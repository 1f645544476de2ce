"""GET /order-sets[/<id>] on the real app: FHIR JSON, HTML, 404, 406, caching."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.plandefinition import PlanDefinition
from flask import Flask
from flask.testing import FlaskClient

from cds_service.knowledge.order_sets import ORDER_SET_IDS

REPO = Path(__file__).resolve().parents[2]
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("accept", [None, "application/fhir+json", "application/json", "*/*"])
def test_json_for_fhir_clients_and_by_default(
    order_client: FlaskClient, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = order_client.get("/order-sets/ivig-baseline", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    plan = PlanDefinition.model_validate(response.get_json(force=True))
    assert plan.id == "ivig-baseline"
    assert response.headers["Vary"] == "Accept"


def test_html_for_browsers(order_client: FlaskClient) -> None:
    response = order_client.get("/order-sets/ivig-monitoring", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<title>Monitoring during the IVIG trial" in page
    assert "Formal response review after 3 courses" in page
    assert "2157-6" in page  # CK's LOINC code shown beside the order
    assert "Rider2017" in page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "<script" not in page
    _assert_well_formed(page)


def test_html_marks_unverified_codes(order_client: FlaskClient) -> None:
    page = order_client.get("/order-sets/ivig-infusion?_format=html").get_data(as_text=True)
    assert "5665" in page
    assert "UNVERIFIED candidate" in page  # the IVIG RxNorm code
    page = order_client.get("/order-sets/jdm-extramuscular?_format=html").get_data(as_text=True)
    assert "29303009" in page
    assert "UNVERIFIED candidate" not in page  # the ECG code is verified
    assert "ordered by name" in page  # nailfold capillaroscopy has no verified code


def test_format_parameter_overrides_accept(order_client: FlaskClient) -> None:
    response = order_client.get(
        "/order-sets/ivig-baseline?_format=json", headers={"Accept": BROWSER_ACCEPT}
    )
    assert response.mimetype == "application/fhir+json"


def test_unknown_id_is_a_404_operation_outcome(order_client: FlaskClient) -> None:
    for accept in ("application/fhir+json", BROWSER_ACCEPT):
        response = order_client.get("/order-sets/ivig-everything", headers={"Accept": accept})
        assert response.status_code == 404
        body = response.get_json(force=True)
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"][0]["code"] == "not-found"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/order-sets/ivig-baseline", {"Accept": "image/png"}),
        ("/order-sets/ivig-baseline", {"Accept": "application/xml"}),
        ("/order-sets", {"Accept": "text/csv"}),
        ("/order-sets/ivig-baseline?_format=xml", {}),
    ],
)
def test_unproducible_type_is_a_406(
    order_client: FlaskClient, path: str, headers: dict[str, str]
) -> None:
    response = order_client.get(path, headers=headers)
    assert response.status_code == 406
    body = response.get_json(force=True)
    assert body["resourceType"] == "OperationOutcome"
    assert "application/fhir+json" in body["issue"][0]["diagnostics"]


def test_listing_is_a_bundle_with_public_urls(make_app: Any) -> None:
    app: Flask = make_app(public_base_url="https://cds.example-hospital.org/jdm")
    response = app.test_client().get("/order-sets")
    assert response.status_code == 200
    bundle = Bundle.model_validate(response.get_json(force=True))
    assert bundle.total == len(ORDER_SET_IDS)
    assert [entry.fullUrl for entry in bundle.entry or []] == [
        f"https://cds.example-hospital.org/jdm/order-sets/{order_set_id}"
        for order_set_id in ORDER_SET_IDS
    ]


def test_listing_as_html_links_every_order_set_under_the_public_url(make_app: Any) -> None:
    app: Flask = make_app(public_base_url="https://cds.example-hospital.org/jdm/")
    client = app.test_client()
    for path in ("/order-sets", "/order-sets/"):
        page = client.get(path, headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True)
        for order_set_id in ORDER_SET_IDS:
            assert f'href="https://cds.example-hospital.org/jdm/order-sets/{order_set_id}"' in page
    page = client.get("/order-sets/ivig-baseline?_format=html").get_data(as_text=True)
    assert 'href="https://cds.example-hospital.org/jdm/order-sets">All order sets' in page


def test_etag_gives_304(order_client: FlaskClient) -> None:
    first = order_client.get("/order-sets/ivig-infusion")
    etag = first.headers["ETag"]
    second = order_client.get("/order-sets/ivig-infusion", headers={"If-None-Match": etag})
    assert second.status_code == 304
    html = order_client.get("/order-sets/ivig-infusion", headers={"Accept": BROWSER_ACCEPT})
    assert html.headers["ETag"] != etag  # each representation has its own tag


def test_links_need_no_token_even_when_auth_is_required(make_app: Any) -> None:
    # cards link here and browsers cannot send a CDS Hooks JWT; the pages hold no patient data
    trust = REPO / "cds_service" / "web" / "auth" / "trust" / "cds-hooks-sandbox.json"
    app: Flask = make_app(auth_required=True, auth_issuers_file=str(trust))
    client = app.test_client()
    assert client.get("/cds-services").status_code == 401  # auth is really on
    assert client.get("/order-sets/ivig-baseline").status_code == 200
    assert client.get("/order-sets").status_code == 200


def test_post_is_not_allowed(order_client: FlaskClient) -> None:
    response = order_client.post("/order-sets/ivig-baseline", json={})
    assert response.status_code == 405
    assert response.get_json(force=True)["resourceType"] == "OperationOutcome"


class _TagBalance(HTMLParser):
    VOID = frozenset({"meta", "br", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()


def _assert_well_formed(page: str) -> None:
    parser = _TagBalance()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
