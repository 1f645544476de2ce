"""The wire contract over real HTTP: discovery, errors, CORS, OpenAPI, health."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hook_requests import patient_view
from jsonschema import Draft202012Validator
from schema_check import assert_error, assert_valid

from cds_service.app import create_app
from cds_service.config import SettingsError
from cds_service.knowledge.codings import VITAL_SIGNS_PANEL, search_tokens
from cds_service.web.openapi import openapi_document, schema_names
from cds_service.web.state import state
from fhir_fixtures import builders as fb
from fhir_fixtures.clocks import frozen_clock

SERVICE_URL = "/cds-services/jdm-ivig"
FEEDBACK_URL = "/cds-services/jdm-ivig/feedback"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    """One app for this module: these tests only read, and startup costs about half a second."""
    store = tmp_path_factory.mktemp("contract") / "jdm-cds.sqlite3"
    return create_app({"database_url": f"sqlite:///{store}"}, clock=frozen_clock).test_client()


def test_discovery_lists_jdm_ivig_with_every_prefetch_template(client: FlaskClient) -> None:
    response = client.get("/cds-services")
    assert response.status_code == 200
    body = assert_valid(response, "DiscoveryResponse")
    assert [s["id"] for s in body["services"]] == ["jdm-ivig", "jdm-order-select", "jdm-order-sign"]
    service = body["services"][0]
    assert service["hook"] == "patient-view"
    assert service["title"] and service["description"]
    templates = service["prefetch"]
    assert templates["patient"] == "Patient/{{context.patientId}}"
    searched = {template.split("?")[0] for key, template in templates.items() if key != "patient"}
    assert searched == {
        "Condition",
        "MedicationRequest",
        "MedicationAdministration",
        "MedicationStatement",
        "Observation",
        "Procedure",
        "Immunization",
        "AllergyIntolerance",
    }
    for key, template in templates.items():
        if key != "patient":
            assert "patient={{context.patientId}}" in template, key
            assert template.endswith("&_count=1000"), key  # the default fhir_page_size


def test_templates_use_only_the_token_every_client_fills(client: FlaskClient) -> None:
    """CDS Hooks 2.0 tokens only, and of them only {{context.patientId}} (docs/prefetch.md): the
    CDS Hooks Sandbox and any 2.0 client can fill every template."""
    templates = client.get("/cds-services").get_json()["services"][0]["prefetch"]
    tokens = set(re.findall(r"\{\{(.*?)\}\}", " ".join(templates.values())))
    assert tokens == {"context.patientId"}


def test_scores_are_also_asked_for_by_assessment_category(client: FlaskClient) -> None:
    template = client.get("/cds-services").get_json()["services"][0]["prefetch"][
        "scoreObservations"
    ]
    assert template == (
        "Observation?patient={{context.patientId}}"
        "&category=survey,exam,functional-status,functional-mental-status&_count=1000"
    )


def test_observation_template_is_filtered_by_the_value_set_codes(client: FlaskClient) -> None:
    template = client.get("/cds-services").get_json()["services"][0]["prefetch"]["observations"]
    terminology = state(client.application).knowledge.terminology
    codes = template.split("&code=")[1].split("&")[0].split(",")
    wanted = search_tokens([*terminology.search_codes("Observation"), VITAL_SIGNS_PANEL])
    assert codes == wanted
    # each code also under its system's OID, as Epic files LOINC; and the vital-signs panel
    assert "urn:oid:2.16.840.1.113883.6.1|29463-7" in codes
    assert "http://loinc.org|85353-1" in codes
    # body weight, height and CK must be asked for; a heart rate must not
    for token in ("http://loinc.org|29463-7", "http://loinc.org|8302-2", "http://loinc.org|2157-6"):
        assert token in codes
    assert "http://loinc.org|8867-4" not in codes


def test_page_size_setting_reaches_every_search_template(make_app: Any) -> None:
    app = make_app(fhir_page_size=37)
    templates = app.test_client().get("/cds-services").get_json()["services"][0]["prefetch"]
    assert all(t.endswith("&_count=37") for k, t in templates.items() if k != "patient")


def test_openapi_document_is_served_and_every_schema_is_valid(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) >= {
        "/cds-services",
        "/cds-services/{id}",
        "/cds-services/{id}/feedback",
        "/openapi.json",
        "/healthz",
    }
    for name in schema_names():
        Draft202012Validator.check_schema(document["components"]["schemas"][name])
    refs = _refs(document)
    for ref in refs:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]  # KeyError = a dangling $ref
    assert document == openapi_document()


def test_every_route_of_the_app_is_in_the_openapi_document(client: FlaskClient) -> None:
    documented = openapi_document()["paths"]
    for rule in client.application.url_map.iter_rules():
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule).rstrip("/") or "/"
        path = path.replace("{service_id}", "{id}")
        assert path in documented, f"{rule.rule} is served but not in openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in documented[path], f"{method} {rule.rule} not documented"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    return set()


def test_health_reports_knowledge_and_database(client: FlaskClient) -> None:
    live = client.get("/healthz")
    assert live.status_code == 200
    assert assert_valid(live, "Health") == {
        "live": True,
        "ready": True,
        "knowledge": "loaded",
        "database": "ok",
    }
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200


def test_readiness_fails_when_the_database_cannot_be_opened(app: Flask) -> None:
    state(app).store.engine.dispose()
    # make the SQLite file unreachable: point the engine at a directory
    from sqlalchemy import create_engine

    state(app).store.engine = create_engine("sqlite:////proc/no-such-dir/x.sqlite3")
    ready = app.test_client().get("/healthz/ready")
    assert ready.status_code == 503
    assert assert_valid(ready, "Health")["database"] == "error"
    assert app.test_client().get("/healthz").status_code == 200


# ---------------------------------------------------------------- errors


def test_malformed_json_is_400_structure(client: FlaskClient) -> None:
    response = client.post(SERVICE_URL, data='{"hook": ', content_type="application/json")
    body = assert_error(response, 400, "structure")
    assert "not valid JSON" in body["issue"][0]["diagnostics"]


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe{}", b'{"a": NaN}', b"[" * 100_000])
def test_unparseable_bodies_are_400_not_500(client: FlaskClient, raw: bytes) -> None:
    response = client.post(SERVICE_URL, data=raw, content_type="application/json")
    assert_error(response, 400, "structure")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["context"].pop("patientId"), "context: 'patientId' is a required property"),
        (lambda b: b.pop("hookInstance"), "(root): 'hookInstance' is a required property"),
        (lambda b: b.update(hookInstance="not-a-uuid"), "hookInstance: does not match"),
        (lambda b: b["context"].update(patientId=42), "context.patientId: must be of type"),
        (lambda b: b.update(prefetch=[{"resourceType": "Patient"}]), "prefetch: must be of type"),
        (
            lambda b: b.update(fhirAuthorization={"access_token": "t", "token_type": "Bearer"}),
            "fhirAuthorization",
        ),
    ],
)
def test_schema_violation_is_400_naming_the_field(
    client: FlaskClient, change: Any, field: str
) -> None:
    request_body = patient_view("found-jdm-1", fhir_server="http://127.0.0.1:1/fhir")
    change(request_body)
    body = assert_error(client.post(SERVICE_URL, json=request_body), 400, "invalid")
    assert field in body["issue"][0]["diagnostics"]


def test_fhir_authorization_without_fhir_server_is_400(client: FlaskClient) -> None:
    request_body = patient_view("found-jdm-1", access_token="secret-token")
    body = assert_error(client.post(SERVICE_URL, json=request_body), 400, "invalid")
    assert "fhirServer" in body["issue"][0]["diagnostics"]
    assert "secret-token" not in json.dumps(body)


def test_schema_errors_do_not_echo_the_sent_value(client: FlaskClient) -> None:
    request_body = patient_view("found-jdm-1")
    request_body["context"]["patientId"] = "Jane Doe 1970-01-01"  # PHI in a bad field
    body = assert_error(client.post(SERVICE_URL, json=request_body), 400)
    assert "Jane Doe" not in json.dumps(body)


def test_unknown_service_is_404(client: FlaskClient) -> None:
    response = client.post("/cds-services/no-such-service", json=patient_view("p"))
    body = assert_error(response, 404, "not-found")
    assert "no-such-service" in body["issue"][0]["diagnostics"]
    assert_error(client.post("/cds-services/no-such-service/feedback", json={}), 404)


def test_wrong_hook_is_400(client: FlaskClient) -> None:
    request_body = patient_view("found-jdm-1")
    request_body["hook"] = "order-select"
    body = assert_error(client.post(SERVICE_URL, json=request_body), 400, "not-supported")
    assert "patient-view" in body["issue"][0]["diagnostics"]


def test_body_over_the_limit_is_413(make_app: Any) -> None:
    client = make_app(max_body_bytes=2048).test_client()
    request_body = patient_view("found-jdm-1")
    request_body["prefetch"] = {"patient": fb.patient("x" * 4096)}
    body = assert_error(client.post(SERVICE_URL, json=request_body), 413, "too-costly")
    assert "2048" in body["issue"][0]["diagnostics"]
    assert_error(client.post(FEEDBACK_URL, data="x" * 4096, content_type="application/json"), 413)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(client: FlaskClient, content_type: str | None) -> None:
    data = json.dumps(patient_view("found-jdm-1"))
    response = client.post(SERVICE_URL, data=data, content_type=content_type)
    assert_error(response, 415, "not-supported")
    assert_error(client.post(FEEDBACK_URL, data="{}", content_type=content_type), 415)


def test_unknown_path_and_wrong_method_answer_json(client: FlaskClient) -> None:
    assert_error(client.get("/no/such/path"), 404)
    wrong_method = client.get(SERVICE_URL)
    assert_error(wrong_method, 405)
    assert "POST" in wrong_method.headers["Allow"]


def test_errors_are_never_html(client: FlaskClient) -> None:
    answers = [
        client.get("/nope"),
        client.put(SERVICE_URL),
        client.post(SERVICE_URL, data="<html>", content_type="text/html"),
        client.post(SERVICE_URL, data="{", content_type="application/json"),
    ]
    for answer in answers:
        assert answer.mimetype == "application/json"
        assert "<" not in answer.get_data(as_text=True)


def test_a_patient_prefetch_for_another_patient_is_400(client: FlaskClient) -> None:
    request_body = patient_view("found-jdm-1", prefetch={"patient": fb.patient("someone-else")})
    body = assert_error(client.post(SERVICE_URL, json=request_body), 400)
    assert "context.patientId" in body["issue"][0]["diagnostics"]


# ---------------------------------------------------------------- CORS

CORS_PATHS = [
    "/cds-services",
    SERVICE_URL,
    FEEDBACK_URL,
    "/openapi.json",
    "/healthz",
    "/healthz/ready",
    "/readyz",
    "/metrics",
    "/order-sets",
    "/cds-services/jdm-ivig/feedback/summary",
    "/cds-services/unknown",
    "/not/a/path",
]


def _assert_cors(response: Any, origin: str = "https://sandbox.cds-hooks.org") -> None:
    """Auth is off here: the allowed origin itself is named (auth on: ``*``, test_auth.py)."""
    assert response.headers["Access-Control-Allow-Origin"] == origin
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "POST", "OPTIONS"} <= methods
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


@pytest.mark.parametrize("path", CORS_PATHS)
def test_cors_on_every_path_for_get_post_and_preflight(client: FlaskClient, path: str) -> None:
    preflight = client.options(
        path,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.get_data() == b""
    _assert_cors(preflight)
    _assert_cors(client.get(path, headers={"Origin": "https://sandbox.cds-hooks.org"}))
    posted = client.post(path, json={}, headers={"Origin": "https://sandbox.cds-hooks.org"})
    _assert_cors(posted)


@pytest.mark.parametrize(
    ("settings", "origin", "allowed"),
    [
        ({}, "http://localhost", "http://localhost"),  # any port, the default one included
        ({}, "https://[::1]:8443", "https://[::1]:8443"),
        ({"cors_origins": ("https://ehr.example.org",)}, "https://ehr.example.org:443",
         "https://ehr.example.org:443"),
        ({"cors_origins": ("https://ehr.example.org",)}, "https://ehr.example.org:8443", None),
        ({"cors_origins": ("https://ehr.example.org",)}, "http://localhost:3000", None),
        ({"cors_origins": ("*",)}, "https://anyone.example", "*"),
    ],
)  # fmt: skip
def test_cors_origins_setting(
    make_app: Any, settings: dict[str, Any], origin: str, allowed: str | None
) -> None:
    client = make_app(**settings).test_client()
    preflight = client.options(
        SERVICE_URL, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    if allowed is None:
        assert_error(preflight, 403, "forbidden")
        assert "Access-Control-Allow-Origin" not in preflight.headers
    else:
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == allowed


@pytest.mark.parametrize("entry", ["localhost:3000", "https://ehr.example.org/app", "ftp://x"])
def test_an_unusable_cors_origin_stops_startup(make_app: Any, entry: str) -> None:
    with pytest.raises(SettingsError, match="CDS_CORS_ORIGINS"):
        make_app(cors_origins=(entry,))


@pytest.mark.parametrize(
    ("access", "remote", "headers", "status"),
    [
        ("loopback", "127.0.0.1", {}, 200),
        ("loopback", "::1", {}, 200),
        ("loopback", "10.0.0.5", {}, 403),
        ("loopback", "127.0.0.1", {"X-Forwarded-For": "10.0.0.5"}, 403),
        ("any", "10.0.0.5", {}, 200),
        ("off", "127.0.0.1", {}, 404),
    ],
)
def test_metrics_access_setting(
    make_app: Any, access: str, remote: str, headers: dict[str, str], status: int
) -> None:
    client = make_app(metrics_access=access).test_client()
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == status
    if status != 200:
        assert response.get_json()["resourceType"] == "OperationOutcome"


def test_an_unknown_metrics_access_stops_startup(make_app: Any) -> None:
    with pytest.raises(SettingsError, match="CDS_METRICS_ACCESS"):
        make_app(metrics_access="everyone")
