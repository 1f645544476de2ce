"""Order-time scenarios (fhir_fixtures/scenarios/orders/): every fixture through the live app.

Each is posted to its service (``jdm-order-sign`` or ``jdm-order-select``) twice: with its full
prefetch, and with no prefetch and ``fhirServer`` set to a real FHIR server (sekmet) holding the
chart (the fetch path; ``context.draftOrders`` is sent either way, as the hooks require). The
answer must validate against the OpenAPI schemas and match expected.json card by card, field by
field: the order, topic, indicator, every topic found, words of the summary and detail, the
``update`` suggestion's resource (same id, the corrected dose and schedule), ``delete``, evidence.
Expectations are written by hand in fhir_fixtures/scenarios/specs_orders.py from
docs/clinical/order-checks.md, never from the service's output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from schema_check import assert_valid

from cds_service.app import create_app
from fhir_fixtures.clocks import SCENARIO_NOW

REPO_ROOT = Path(__file__).resolve().parent.parent
ORDER_DIR = REPO_ROOT / "fhir_fixtures" / "scenarios" / "orders"
SCENARIOS = sorted(p.name for p in ORDER_DIR.iterdir() if (p / "expected.json").is_file())
TOPICS = (
    "order-mtx-frequency",
    "order-mtx-dose",
    "order-ivig-dose",
    "order-ivig-interval",
    "order-ivig-safety",
    "order-rituximab-dose",
    "order-ivmp-dose",
    "order-steroid-dose",
    "order-weight-needed",
)
# the thresholds the issue names, each with the boundary fixture that sits on it
REQUIRED_BOUNDARIES = (
    "boundary-order-mtx-dose-20-mg-m2",
    "boundary-order-mtx-dose-40-mg",
    "boundary-order-ivig-dose-110-percent",
    "boundary-order-ivig-interval-21-days",
    "boundary-order-ivmp-dose-1-g-at-40-kg",
    "boundary-order-steroid-dose-60-mg",
)
Json = dict[str, Any]


def load(name: str, file: str) -> Json:
    document: Json = json.loads((ORDER_DIR / name / file).read_text())
    return document


@pytest.fixture(scope="module")
def order_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    store = tmp_path_factory.mktemp("order-store") / "jdm-cds.sqlite3"
    settings = {"database_url": f"sqlite:///{store}", "fhir_page_size": 10}
    return create_app(settings, clock=lambda: SCENARIO_NOW)


@pytest.fixture(scope="module")
def client(order_app: Flask) -> FlaskClient:
    return order_app.test_client()


@pytest.fixture(scope="module")
def loaded_fhir_server(fhir_server: Any) -> Iterator[Any]:
    for name in SCENARIOS:
        fhir_server.load(load(name, "bundle.json"))
    yield fhir_server


def card_problems(card: Json, expected: Json) -> list[str]:
    """Field by field: what this card must say about its order."""
    where = f"card for {expected['order']}"
    problems = []
    topic = card["source"]["topic"]["code"]
    evidence = card["extension"]["org.jdm-cds.evidence"]
    if topic != expected["topic"] or evidence["topic"] != expected["topic"]:
        problems.append(f"{where}: topic {topic}, expected {expected['topic']}")
    if card["indicator"] != expected["indicator"]:
        problems.append(f"{where}: indicator {card['indicator']}, expected {expected['indicator']}")
    found = sorted(f["topic"] for f in evidence["order"]["findings"])
    if found != expected["topics"]:
        problems.append(f"{where}: findings {found}, expected {expected['topics']}")
    if evidence["order"].get("id") != f"MedicationRequest/{expected['order']}":
        problems.append(f"{where}: evidence order id {evidence['order'].get('id')}")
    if f"MedicationRequest/{expected['order']}" not in evidence["resources"]:
        problems.append(f"{where}: the order is not among the evidence's resources")
    if len(card["summary"]) > 139:
        problems.append(f"{where}: summary over 139 characters")
    words = card["summary"] + "\n" + card["detail"].replace("\\", "")
    problems += [f"{where}: says nothing of {m!r}" for m in expected["mentions"] if m not in words]
    problems += [f"{where}: says {m!r}" for m in expected.get("notMentions", []) if m in words]
    detail = card["detail"].replace("\\", "")
    in_order = [detail.find(m) for m in expected.get("mentionsInOrder", [])]
    if -1 in in_order or in_order != sorted(in_order):
        problems.append(f"{where}: not in the order {expected['mentionsInOrder']}")
    linked = {link["url"].rsplit("/", 1)[-1] for link in card.get("links", [])}
    problems += [f"{where}: no link to {s}" for s in expected.get("links", []) if s not in linked]
    problems += [f"{where}: links {s}" for s in expected.get("linksAbsent", []) if s in linked]
    resources = {ref.rsplit("/", 1)[-1] for ref in evidence["resources"]}
    problems += [
        f"{where}: {local} not among the evidence's resources"
        for local in expected.get("evidence", [])
        if local not in resources
    ]
    facts = {f["name"]: f["value"] for f in evidence["facts"]}
    for name, value in expected["facts"].items():
        if facts.get(name) != value:
            problems.append(f"{where}: fact {name} = {facts.get(name)!r}, expected {value!r}")
    for used in evidence["thresholds"]:
        if not used.get("sourceKey"):
            problems.append(f"{where}: threshold {used['name']} without a source key")
    problems += _suggestion_problems(card, expected, where)
    if not card.get("overrideReasons"):
        problems.append(f"{where}: no overrideReasons")
    return problems


def _suggestion_problems(card: Json, expected: Json, where: str) -> list[str]:
    actions = [a for s in card.get("suggestions") or [] for a in s["actions"]]
    updates = [a for a in actions if a["type"] == "update"]
    deletes = [a for a in actions if a["type"] == "delete"]
    problems = []
    if actions and card.get("selectionBehavior") != "at-most-one":
        problems.append(f"{where}: selectionBehavior must be at-most-one")
    want = expected["update"]
    if want is None:
        if updates:
            problems.append(f"{where}: an update was offered, none expected")
    elif len(updates) != 1:
        problems.append(f"{where}: {len(updates)} update actions, expected 1")
    else:
        resource = updates[0]["resource"]
        if (
            resource.get("id") != expected["order"]
            or resource["resourceType"] != "MedicationRequest"
        ):
            problems.append(f"{where}: the update is not the draft's own id")
        dosage = resource["dosageInstruction"][0]
        if want["dose"] is not None:
            quantity = dosage["doseAndRate"][0]["doseQuantity"]
            if [quantity["value"], quantity["code"]] != want["dose"]:
                problems.append(f"{where}: updated dose {quantity}, expected {want['dose']}")
        if want["repeat"] is not None:
            repeat = {
                k: v for k, v in dosage["timing"]["repeat"].items() if not k.startswith("bounds")
            }
            if repeat != want["repeat"]:
                problems.append(f"{where}: updated repeat {repeat}, expected {want['repeat']}")
            if "code" in dosage["timing"]:
                problems.append(f"{where}: the old timing.code was kept")
    wanted_delete = [f"MedicationRequest/{expected['order']}"] if expected["delete"] else None
    got_delete = deletes[0]["resourceId"] if deletes else None
    if got_delete != wanted_delete:
        problems.append(f"{where}: delete {got_delete}, expected {wanted_delete}")
    return problems


def problems_in(response: Any, expected: Json) -> list[str]:
    if response.status_code != 200:
        return [f"HTTP {response.status_code}: {response.get_data(as_text=True)[:500]}"]
    cards = assert_valid(response, "HookResponse")["cards"]
    by_order = {c["extension"]["org.jdm-cds.evidence"]["order"].get("id"): c for c in cards}
    wanted = {f"MedicationRequest/{c['order']}": c for c in expected["cards"]}
    problems = []
    if set(by_order) != set(wanted) or len(cards) != len(wanted):
        problems.append(f"cards for {sorted(by_order)}, expected for {sorted(wanted)}")
    for order, card in by_order.items():
        if order in wanted:
            problems += card_problems(card, wanted[order])
    return problems


def report(name: str, problems: list[str]) -> str:
    return f"{name}: {load(name, 'expected.json')['proves']}\n  - " + "\n  - ".join(problems)


@pytest.mark.parametrize("name", SCENARIOS)
def test_order_scenario_with_prefetch(name: str, client: FlaskClient) -> None:
    expected = load(name, "expected.json")
    response = client.post(f"/cds-services/{expected['service']}", json=load(name, "request.json"))
    problems = problems_in(response, expected)
    assert not problems, report(name, problems)


@pytest.mark.server
@pytest.mark.parametrize("name", SCENARIOS)
def test_order_scenario_through_fetch_path(
    name: str, client: FlaskClient, loaded_fhir_server: Any
) -> None:
    expected = load(name, "expected.json")
    request = load(name, "request.json")
    del request["prefetch"]
    request["fhirServer"] = loaded_fhir_server.base_url
    response = client.post(f"/cds-services/{expected['service']}", json=request)
    problems = problems_in(response, expected)
    assert not problems, report(name, problems)


# the order families an out- and a boundary- fixture must exist for
FAMILIES = {
    "out": ("mtx", "ivig", "rituximab", "not-jdm", "other-drug"),
    "boundary": ("mtx", "ivig", "ivmp", "steroid"),
}


@pytest.mark.parametrize("kind", ["in", "out", "boundary"])
def test_every_order_topic_has_its_fixtures(kind: str) -> None:
    """An in- fixture that fires each topic; out- and boundary- fixtures per order family."""
    if kind == "in":
        fired = {
            card["topic"]
            for name in SCENARIOS
            if name.startswith("in-")
            for card in load(name, "expected.json")["cards"]
        }
        assert set(TOPICS) <= fired, sorted(set(TOPICS) - fired)
        return
    missing = [
        family
        for family in FAMILIES[kind]
        if not any(name.startswith(f"{kind}-order-{family}") for name in SCENARIOS)
    ]
    assert not missing, f"no {kind}- order fixture for {missing}"


def test_boundary_order_fixtures_state_their_threshold() -> None:
    missing = [n for n in REQUIRED_BOUNDARIES if n not in SCENARIOS]
    assert not missing
    for name in SCENARIOS:
        if name.startswith("boundary-"):
            threshold = load(name, "expected.json").get("threshold") or {}
            assert {"name", "value", "side", "why"} <= set(threshold), name
