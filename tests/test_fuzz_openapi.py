"""Property-based fuzzing from the service's own ``/openapi.json`` (schemathesis + Hypothesis).

Every operation of the document is called with generated requests, valid and invalid, against
the live WSGI app, once with auth off and once with auth on (each generated request then carries
a freshly signed, valid CDS Hooks JWT for exactly the URL called, so the fuzzing reaches the
handlers behind the auth check; a share of requests go without a token and must get a 401).

Checks on every response: never a 5xx; the status code is one the document declares for the
operation; the content type and the body match the declared response schema. The run is seeded
(``derandomize``) and bounded: :data:`EXAMPLES_PER_OPERATION` examples per operation and mode.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from jwt_helpers import ISSUER, SigningKey, ec_key, jwks_document, make_token, write_issuers_file
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from cds_service.app import create_app
from fhir_fixtures.clocks import SCENARIO_NOW as NOW

EXAMPLES_PER_OPERATION = 100
SERVICE_ID = "jdm-ivig"
PUBLIC_BASE = "http://cds.fuzz.example"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SIGNING_KEY: SigningKey = ec_key("fuzz-key")


OPENAPI = Path(__file__).resolve().parent.parent / "cds_service/web/openapi/openapi.json"
_DOCUMENT: dict[str, Any] = json.loads(OPENAPI.read_text())
# real ids, so generated requests get past the 404 in front of the handlers
PINNED_IDS = {"id": "jdm-ivig", "order_set_id": "ivig-baseline"}


def _inputs(item: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    """Names of what a client controls in an operation ("body" for a request body)."""
    names = ["body"] if operation.get("requestBody") else []
    for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
        if "$ref" in parameter:
            parameter = _DOCUMENT["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        names.append(parameter["name"])
    return names


# (path, method, mode): invalid input can only be made where something is left unpinned
CASES = [
    (path, method.upper(), mode)
    for path, item in _DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method in ("get", "post", "put", "delete", "patch")
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or set(_inputs(item, operation)) - {"id"}
]


@pytest.fixture(scope="module", params=["auth-off", "auth-on"])
def fuzz_schema(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp(request.param)
    # the store on tmpfs when there is one: hundreds of feedback writes, each an fsync on disk
    database_dir = Path(tempfile.mkdtemp(dir="/dev/shm")) if Path("/dev/shm").is_dir() else folder
    request.addfinalizer(lambda: shutil.rmtree(database_dir, ignore_errors=True))
    settings_map: dict[str, Any] = {
        "database_url": f"sqlite:///{database_dir / 'db.sqlite3'}",
        "public_base_url": PUBLIC_BASE,
        "request_deadline_s": 2.0,
    }
    if request.param == "auth-on":
        (folder / "jwks.json").write_text(json.dumps(jwks_document(SIGNING_KEY)))
        issuers = write_issuers_file(folder, {ISSUER: {"jwks_file": "jwks.json"}})
        settings_map.update(auth_required=True, auth_issuers_file=str(issuers))
    app = create_app(settings_map, clock=lambda: NOW)
    return request.param == "auth-on", schemathesis.openapi.from_wsgi("/openapi.json", app)


def make_deeper(case: Any) -> None:
    """Nudge a valid body past checks the schema cannot express, so it reaches the handler.

    The schema takes any ``hook`` (it is one schema for every service), any timestamp of the
    right shape ("2024-13-45T...") and any prefetch; the service then answers 400 or 412 before
    doing any real work. Three examples in four get the service's hook, a real instant and a
    Patient matching the context (the other generated prefetch values are kept); the rest stay
    as made.
    """
    body = case.body
    if not isinstance(body, dict) or _crc(case) % 4 == 0:
        return
    if "hook" in body:
        body["hook"] = "patient-view"
    context, prefetch = body.get("context"), body.get("prefetch")
    if isinstance(context, dict) and isinstance(context.get("patientId"), str):
        # a Patient that matches the context, so the generated rest of the prefetch is used
        patient = {"resourceType": "Patient", "id": context["patientId"], "birthDate": "2016-11-20"}
        body["prefetch"] = {**(prefetch if isinstance(prefetch, dict) else {}), "patient": patient}
    for item in body.get("feedback", []) if isinstance(body.get("feedback"), list) else []:
        if isinstance(item, dict) and "outcomeTimestamp" in item:
            item["outcomeTimestamp"] = f"2026-03-{1 + _crc(case) % 28:02d}T09:30:00+13:00"


def _crc(case: Any) -> int:
    return zlib.crc32(json.dumps([case.formatted_path, case.body], default=str).encode())


def token_headers(case: Any) -> dict[str, str]:
    """A valid JWT for the URL called, except for one case in eight (which must get a 401)."""
    if _crc(case) % 8 == 1:
        return {}
    token = make_token(SIGNING_KEY, audience=PUBLIC_BASE + case.formatted_path, now=NOW)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow  # about 30 s of CPU: make test runs it, make test-fast leaves it out
@pytest.mark.parametrize(
    ("path", "method", "mode"), CASES, ids=[f"{m} {p} {g.value}" for p, m, g in CASES]
)
def test_every_operation_answers_per_its_schema(
    fuzz_schema: tuple[bool, Any], path: str, method: str, mode: GenerationMode
) -> None:
    auth_on, api = fuzz_schema
    operation = api[path][method]
    calls: list[int] = []

    # valid cases use real ids; invalid ones keep the service id and vary the rest
    pinnable = PINNED_IDS if mode is GenerationMode.POSITIVE else {"id": SERVICE_ID}
    pinned = {name: value for name, value in pinnable.items() if "{" + name + "}" in path} or None

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=pinned))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        if mode is GenerationMode.POSITIVE:
            make_deeper(case)
        guarded = auth_on and path.startswith("/cds-services")
        headers = token_headers(case) if guarded else {}
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code < 500
        calls.append(response.status_code)

    fuzz()
    assert calls, "no example was run"
    _report(f"{'auth-on' if auth_on else 'auth-off'} {method} {path} {mode.value}", calls)


def _report(name: str, statuses: list[int]) -> None:
    """With JDM_CDS_FUZZ_REPORT=<file>, append how many examples ran and their statuses."""
    target = os.environ.get("JDM_CDS_FUZZ_REPORT")
    if target:
        counts = {str(code): statuses.count(code) for code in sorted(set(statuses))}
        with open(target, "a", encoding="utf-8") as report:
            report.write(json.dumps({"case": name, "examples": len(statuses), **counts}) + "\n")


def test_examples_per_operation_is_ci_sized() -> None:
    # the figure reported in docs/security.md; keep both in step
    text = (Path(__file__).resolve().parent.parent / "docs/security.md").read_text()
    assert f"{EXAMPLES_PER_OPERATION} examples per operation" in text
