"""The order-select / order-sign services over HTTP: discovery, request errors, the seed case's own
draft IVIG order sent back, and a property test of the corrections.

- Discovery lists three services from the one registry, each with its hook and prefetch.
- A malformed ``draftOrders`` is a 400 naming the field; a ``selections`` entry that names no
  draft is a 400; neither is ever a 500.
- The ``ivig-start`` card's own draft MedicationRequest (the seed case), given an id as an EHR
  would and sent back to ``order-sign``, gets no card: the order checks and the patient-view card
  share one dose arithmetic.
- Property (Hypothesis): for random weights, heights and orders, no suggested dose is above the
  regimen's maximum, and the suggested order, sent back, gets no dose or frequency card.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema_check import assert_error, assert_valid

from cds_service.app import create_app
from cds_service.history.body import mosteller_bsa_m2
from fhir_fixtures.clocks import SCENARIO_NOW

SCENARIOS = Path(__file__).resolve().parent.parent / "fhir_fixtures" / "scenarios"
SEED = json.loads((SCENARIOS / "in-seed-case" / "request.json").read_text())
ORDER_BASE = json.loads(
    (SCENARIOS / "orders" / "out-order-mtx-weekly-sc" / "request.json").read_text()
)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
DOSE_TOPICS = {
    "order-mtx-frequency",
    "order-mtx-dose",
    "order-ivig-dose",
    "order-rituximab-dose",
    "order-ivmp-dose",
    "order-steroid-dose",
}
Json = dict[str, Any]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    database = tmp_path_factory.mktemp("order-services") / "db.sqlite3"
    return create_app({"database_url": f"sqlite:///{database}"}, clock=lambda: SCENARIO_NOW)


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign(client: FlaskClient, base: Json, orders: list[Json], hook: str = "order-sign") -> Any:
    body = copy.deepcopy(base)
    body["hook"] = hook
    body["prefetch"].pop("scoreObservations", None)
    body["context"] = {
        "userId": base["context"]["userId"],
        "patientId": base["context"]["patientId"],
        "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": o} for o in orders]},
    }
    return client.post(f"/cds-services/jdm-{hook}", json=body)


# --- discovery and errors ----------------------------------------------------------------------


def test_discovery_lists_three_services(client: FlaskClient) -> None:
    services = {s["id"]: s for s in client.get("/cds-services").get_json()["services"]}
    assert {k: s["hook"] for k, s in services.items()} == {
        "jdm-ivig": "patient-view",
        "jdm-order-select": "order-select",
        "jdm-order-sign": "order-sign",
    }
    for service_id in ("jdm-order-select", "jdm-order-sign"):
        prefetch = services[service_id]["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        assert {"observations", "medicationAdministrations", "allergies"} <= set(prefetch)


@pytest.mark.parametrize(
    ("draft_orders", "field"),
    [
        ({"resourceType": "Patient"}, "context.draftOrders.resourceType"),
        ([], "context.draftOrders"),
        ({"resourceType": "Bundle", "entry": [{}]}, "context.draftOrders.entry[0]"),
        ({"resourceType": "Bundle", "entry": [{"resource": {}}]}, "context.draftOrders.entry[0]"),
        ({"resourceType": "Bundle", "entry": "x"}, "context.draftOrders.entry"),
    ],
)
def test_malformed_draft_orders_is_a_400_naming_the_field(
    client: FlaskClient, draft_orders: Any, field: str
) -> None:
    body = copy.deepcopy(ORDER_BASE)
    body["context"]["draftOrders"] = draft_orders
    error = assert_error(client.post("/cds-services/jdm-order-sign", json=body), 400, "invalid")
    assert field in error["issue"][0]["diagnostics"]


def test_missing_draft_orders_is_a_400(client: FlaskClient) -> None:
    body = copy.deepcopy(ORDER_BASE)
    del body["context"]["draftOrders"]
    error = assert_error(client.post("/cds-services/jdm-order-sign", json=body), 400, "invalid")
    assert "draftOrders" in error["issue"][0]["diagnostics"]


def test_selection_naming_no_draft_is_a_400(client: FlaskClient) -> None:
    body = copy.deepcopy(ORDER_BASE)
    body["hook"] = "order-select"
    body["context"]["selections"] = ["MedicationRequest/not-in-the-bundle"]
    error = assert_error(client.post("/cds-services/jdm-order-select", json=body), 400, "invalid")
    assert "context.selections[0]" in error["issue"][0]["diagnostics"]


def test_order_select_needs_selections(client: FlaskClient) -> None:
    body = copy.deepcopy(ORDER_BASE)
    body["hook"] = "order-select"
    error = assert_error(client.post("/cds-services/jdm-order-select", json=body), 400, "invalid")
    assert "selections" in error["issue"][0]["diagnostics"]


def test_patient_view_request_to_an_order_service_is_the_wrong_hook(client: FlaskClient) -> None:
    assert_error(client.post("/cds-services/jdm-order-sign", json=SEED), 400, "not-supported")


# --- the service's own draft comes back --------------------------------------------------------


def test_seed_case_draft_ivig_order_passes_order_sign(client: FlaskClient) -> None:
    response = client.post("/cds-services/jdm-ivig", json=SEED)
    cards = assert_valid(response, "HookResponse")["cards"]
    start = next(c for c in cards if c["source"]["topic"]["code"] == "ivig-start")
    drafts = [
        action["resource"]
        for suggestion in start["suggestions"]
        for action in suggestion["actions"]
        if action["resource"]["resourceType"] == "MedicationRequest"
    ]
    assert len(drafts) == 1
    draft = drafts[0] | {"id": "ivig-draft-from-card"}  # the EHR gives the draft an id
    answer = assert_valid(sign(client, SEED, [draft]), "HookResponse")
    assert answer["cards"] == []
    # the same order written as a daily 52 g (the per-day mistake) does get the critical card
    wrong = copy.deepcopy(draft)
    wrong["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 52
    cards = assert_valid(sign(client, SEED, [wrong]), "HookResponse")["cards"]
    assert [(c["source"]["topic"]["code"], c["indicator"]) for c in cards] == [
        ("order-ivig-dose", "critical")
    ]


# --- property: corrections never exceed the regimen and pass their own check ----------------------

AGENTS = {
    "mtx-tablet": ("579782", "Methotrexate 2.5 MG Oral Tablet [Rheumatrex]", "{pill}", None),
    "mtx": ("6851", "methotrexate", "mg", "sc"),
    "ivig": ("5665", "immune globulin (IVIG) 10%", "g", "iv"),
    "rituximab": ("121191", "rituximab", "mg", "iv"),
    "ivmp": ("6902", "methylprednisolone", "mg", "iv"),
    "pred": ("8638", "prednisolone", "mg", "oral"),
}
ROUTES = {
    "sc": {"system": "http://snomed.info/sct", "code": "34206005"},
    "iv": {"system": "http://snomed.info/sct", "code": "47625008"},
    "oral": {"system": "http://snomed.info/sct", "code": "26643006"},
}


def usual_dose(agent: str, kg: Decimal) -> Decimal:
    """A dose of the regimen's order of size, for the factor to scale around."""
    per_kg = {"ivig": Decimal(1), "ivmp": Decimal(30), "pred": Decimal(2)}
    fixed = {"mtx-tablet": Decimal(6), "mtx": Decimal(15), "rituximab": Decimal(600)}
    return fixed[agent] if agent in fixed else per_kg[agent] * kg


def with_size(base: Json, kg: Decimal, cm: Decimal) -> Json:
    body = copy.deepcopy(base)
    entries = body["prefetch"]["observations"]["entry"]
    entries[:] = [e for e in entries if not e["resource"]["id"].endswith("w-old")]
    for entry in entries:
        resource = entry["resource"]
        if resource["id"].endswith("w-now"):
            resource["valueQuantity"]["value"] = float(kg)
        if resource["id"].endswith("height"):
            resource["valueQuantity"]["value"] = float(cm)
    return body


def medication_request(
    agent: str, dose: Decimal, per_day: int, every_days: int, count: int
) -> Json:
    code, display, unit, route = AGENTS[agent]
    dosage: Json = {
        "timing": {
            "repeat": {"frequency": per_day, "period": every_days, "periodUnit": "d"}
            | ({"count": count} if agent in ("ivig", "ivmp") else {})
        },
        "doseAndRate": [
            {"doseQuantity": {"value": float(dose), "unit": unit, "system": UCUM, "code": unit}}
        ],
    }
    if route:
        dosage["route"] = {"coding": [ROUTES[route]]}
    return {
        "resourceType": "MedicationRequest",
        "id": "prop-order",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": code, "display": display}],
            "text": display,
        },
        "dosageInstruction": [dosage],
    }


def suggested_mg(resource: Json) -> tuple[Decimal, Decimal]:
    """(mg per administration, administrations) of a suggested order."""
    dosage = resource["dosageInstruction"][0]
    quantity = dosage["doseAndRate"][0]["doseQuantity"]
    value = Decimal(str(quantity["value"]))
    mg = {"{pill}": value * Decimal("2.5"), "g": value * 1000}.get(quantity["code"], value)
    return mg, Decimal(dosage["timing"]["repeat"].get("count") or 1)


def assert_within_regimen(agent: str, resource: Json, kg: Decimal, cm: Decimal) -> None:
    mg, count = suggested_mg(resource)
    bsa = mosteller_bsa_m2(kg, cm) * Decimal("1.01")  # allow the BSA's rounding to 0.01 m2
    if agent.startswith("mtx"):
        assert mg <= min(Decimal(40), 20 * bsa), (mg, kg, cm)
        assert resource["dosageInstruction"][0]["timing"]["repeat"]["periodUnit"] == "wk"
    elif agent == "ivig":
        assert mg * count <= min(Decimal(70_000), 2000 * kg + 100 * count), (mg, count, kg)
    elif agent == "rituximab":
        assert mg <= min(Decimal(1000), 750 * bsa + Decimal("0.5")), (mg, kg, cm)
    elif agent == "ivmp":
        assert mg <= min(Decimal(1000), 30 * kg), (mg, kg)
    else:
        assert mg <= min(Decimal(60), 2 * kg), (mg, kg)


@given(
    kg=st.decimals(min_value=Decimal("12"), max_value=Decimal("90"), places=1),
    cm=st.decimals(min_value=Decimal("95"), max_value=Decimal("185"), places=0),
    agent=st.sampled_from(sorted(AGENTS)),
    factor=st.decimals(min_value=Decimal("0.3"), max_value=Decimal("4"), places=2),
    per_day=st.integers(min_value=1, max_value=4),
    every_days=st.sampled_from([1, 2, 7]),
    count=st.integers(min_value=1, max_value=5),
)
@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_suggested_orders_stay_within_the_regimen_and_pass_their_own_check(
    client: FlaskClient,
    kg: Decimal,
    cm: Decimal,
    agent: str,
    factor: Decimal,
    per_day: int,
    every_days: int,
    count: int,
) -> None:
    base = with_size(ORDER_BASE, kg, cm)
    dose = (usual_dose(agent, kg) * factor).quantize(Decimal("0.1"))
    order = medication_request(agent, dose, per_day, every_days, count)
    cards = assert_valid(sign(client, base, [order]), "HookResponse")["cards"]
    updates = [
        action["resource"]
        for card in cards
        for suggestion in card.get("suggestions") or []
        for action in suggestion["actions"]
        if action["type"] == "update"
    ]
    for resource in updates:
        assert resource["id"] == "prop-order"
        assert_within_regimen(agent, resource, kg, cm)
        again = assert_valid(sign(client, base, [resource]), "HookResponse")["cards"]
        topics = {
            f["topic"]
            for card in again
            for f in card["extension"]["org.jdm-cds.evidence"]["order"]["findings"]
            if not (f["topic"] == "order-ivig-dose" and f["case"] == "under")
        }
        assert not topics & DOSE_TOPICS, (agent, kg, cm, resource["dosageInstruction"], topics)


# --- the CDS Hooks Sandbox's own request shape ----------------------------------------------------

# the draft the Sandbox's Rx Sign / Rx View screens send (sandbox commit 3b7e255, recorded on this
# machine): 579782 tablets, 1 {pill}, daily, a community category and a 30-day supply
SANDBOX_DRAFT: Json = {
    "resourceType": "MedicationRequest",
    "id": "request-123",
    "status": "draft",
    "subject": {"reference": "Patient/e3c1050d-pat"},
    "authoredOn": "2026-03-15",
    "dosageInstruction": [
        {
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "system": UCUM, "code": "{pill}"}}],
        }
    ],
    "dispenseRequest": {
        "expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}
    },
    "intent": "order",
    "category": {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                "code": "community",
            }
        ]
    },
    "medicationCodeableConcept": {
        "text": "Methotrexate 2.5 MG Oral Tablet [Rheumatrex]",
        "coding": [
            {
                "display": "Methotrexate 2.5 MG Oral Tablet [Rheumatrex]",
                "system": RXNORM,
                "code": "579782",
            }
        ],
    },
}


@pytest.mark.parametrize("hook", ["order-sign", "order-select"])
def test_sandbox_rx_sign_and_rx_view_daily_methotrexate_is_critical(
    client: FlaskClient, hook: str
) -> None:
    body = copy.deepcopy(SEED)
    body["hook"] = hook
    body["prefetch"].pop("scoreObservations")
    body["context"] = {
        "userId": "Practitioner/COREPRACTITIONER1",
        "patientId": SEED["context"]["patientId"],
        "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": SANDBOX_DRAFT}]},
    }
    if hook == "order-select":
        body["context"]["selections"] = ["MedicationRequest/request-123"]
    cards = assert_valid(client.post(f"/cds-services/jdm-{hook}", json=body), "HookResponse")[
        "cards"
    ]
    assert len(cards) == 1
    card = cards[0]
    assert (card["indicator"], card["source"]["topic"]["code"]) == (
        "critical",
        "order-mtx-frequency",
    )
    assert card["summary"].startswith("Methotrexate ordered DAILY")
    assert "17.5 mg a week" in card["summary"]  # 2.5 mg x 7
    update = card["suggestions"][0]["actions"][0]
    assert update["type"] == "update" and update["resource"]["id"] == "request-123"
    assert update["resource"]["dosageInstruction"][0]["timing"]["repeat"]["periodUnit"] == "wk"
    assert update["resource"]["dispenseRequest"] == SANDBOX_DRAFT["dispenseRequest"]
    delete = card["suggestions"][1]["actions"][0]
    assert delete == {
        "type": "delete",
        "description": delete["description"],
        "resourceId": ["MedicationRequest/request-123"],
    }


def test_sandbox_rx_view_before_a_medication_is_chosen_gets_no_card(client: FlaskClient) -> None:
    """Rx View calls order-select as soon as it opens, with a draft that names no medication."""
    body = copy.deepcopy(SEED)
    body["hook"] = "order-select"
    body["prefetch"].pop("scoreObservations")
    empty = {k: SANDBOX_DRAFT[k] for k in ("resourceType", "id", "status", "subject", "authoredOn")}
    body["context"] = {
        "userId": "Practitioner/COREPRACTITIONER1",
        "patientId": SEED["context"]["patientId"],
        "selections": ["MedicationRequest/request-123"],
        "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": empty}]},
    }
    response = client.post("/cds-services/jdm-order-select", json=body)
    assert assert_valid(response, "HookResponse")["cards"] == []
