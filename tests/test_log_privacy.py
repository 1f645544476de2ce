"""No PHI and no token in any log line, at any level, from any logger.

A patient whose record is full of known, unmistakable PHI strings (name, identifiers, birth date,
address, phone, free text in several resources) is sent to the service every way it can arrive:
full prefetch; fetched from a FHIR server (well-behaved, then failing in several ways, so urllib3
and the error paths log); malformed resources; a bad request; an expired and a valid CDS Hooks
JWT; feedback with a comment. Two servers are exercised: the app under werkzeug in this process
(every logger forced to DEBUG, our JSON formatter on the root), and the production gunicorn with
``CDS_LOG_LEVEL=DEBUG`` (its whole stderr/stdout read). Then every captured byte is searched.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jwt_helpers import ISSUER, ec_key, jwks_document, make_token, write_issuers_file
from misbehaving_fhir import MisbehavingFhir, misbehaving_fhir
from werkzeug.serving import make_server

from bench import load  # starts gunicorn with the repo's config
from cds_service.app import create_app
from cds_service.web.logging_setup import configure_logging
from fhir_fixtures.clocks import SCENARIO_NOW

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "fhir_fixtures/scenarios/in-ivig-start-inadequate-response"
PATIENT_ID = "0286b354-pat"
FHIR_TOKEN = "fhir-bearer-Qm9yaXNQSElUb2tlbg"
FAMILY, GIVEN = "Quixotemarchetti", "Ottoline"
MRN, NHS_NUMBER = "MRN-99887766", "9434765919"
BIRTH_DATE = "2016-11-20"
STREET, CITY, PHONE = "17 Larkspur Crescent", "Wolverhamptonshire", "+44 7700 900123"
NOTE = "Ottoline's mother reports falls on the stairs at 17 Larkspur Crescent"
COMMENT = "Discussed with Mrs Quixotemarchetti"
PHI = [FAMILY, GIVEN, MRN, NHS_NUMBER, BIRTH_DATE, STREET, CITY, PHONE, PATIENT_ID, FHIR_TOKEN]


def phi_bundle() -> dict[str, Any]:
    """The scenario's record with PHI put into the Patient and into free text elsewhere."""
    bundle: dict[str, Any] = json.loads((SCENARIO / "bundle.json").read_text())
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            assert resource["birthDate"] == BIRTH_DATE
            resource["name"] = [{"family": FAMILY, "given": [GIVEN]}]
            resource["identifier"] = [
                {"system": "urn:oid:2.16.840.1.113883.2.1.4.1", "value": NHS_NUMBER},
                {"system": "urn:hospital:mrn", "value": MRN},
            ]
            resource["address"] = [{"line": [STREET], "city": CITY}]
            resource["telecom"] = [{"system": "phone", "value": PHONE}]
        elif resource["resourceType"] in ("Condition", "Observation", "MedicationRequest"):
            resource["note"] = [{"text": NOTE}]
    # a malformed resource that quotes PHI in the very field that fails to parse
    broken = copy.deepcopy(
        next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
    )
    broken["resource"]["id"] = "broken-obs"
    broken["resource"]["effectiveDateTime"] = f"{GIVEN} {FAMILY} {BIRTH_DATE}"
    broken["resource"]["valueQuantity"] = {"value": f"{MRN}", "unit": "kg"}
    bundle["entry"].append(broken)
    return bundle


def prefetch_of(bundle: dict[str, Any]) -> dict[str, Any]:
    """The scenario's prefetch with each resource swapped for its PHI-laden version."""
    by_key = {(e["resource"]["resourceType"], e["resource"]["id"]): e["resource"]
              for e in bundle["entry"]}  # fmt: skip
    prefetch: dict[str, Any] = json.loads((SCENARIO / "request.json").read_text())["prefetch"]
    for key, value in prefetch.items():
        if key == "patient":
            prefetch[key] = by_key[("Patient", PATIENT_ID)]
        elif value and value.get("resourceType") == "Bundle":
            for entry in value.get("entry", []):
                resource = entry["resource"]
                entry["resource"] = by_key[(resource["resourceType"], resource["id"])]
            if key == "observations":
                value["entry"].append({"resource": by_key[("Observation", "broken-obs")]})
    return prefetch


def hook_body(**extra: Any) -> dict[str, Any]:
    body = json.loads((SCENARIO / "request.json").read_text())
    body.pop("prefetch")
    body.update(extra)
    return body


def fhir_auth() -> dict[str, Any]:
    return {"access_token": FHIR_TOKEN, "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "jdm-cds"}  # fmt: skip


FAULT_ROUNDS: list[dict[str, str]] = [
    {},
    {"Observation": "500"},
    {"Condition": "truncated"},
    {"*": "html"},
    {"MedicationAdministration": "next-loop"},
    {"Procedure": "other-patient"},
]


def exercise(base_url: str, fhir: MisbehavingFhir, bundle: dict[str, Any], jwt_for: Any) -> None:
    """Every way PHI can reach the service, against a live server at `base_url`."""
    service = f"{base_url}/cds-services/jdm-ivig"

    def post(url: str, body: Any, **kwargs: Any) -> requests.Response:
        path = url.removeprefix(base_url)
        headers = {"Authorization": f"Bearer {jwt_for(path)}"} if jwt_for else {}
        headers.update(kwargs.pop("headers", {}))
        return requests.post(url, json=body, headers=headers, timeout=30, **kwargs)

    answers = [post(service, hook_body(prefetch=prefetch_of(bundle)))]
    for faults in FAULT_ROUNDS:
        fhir.faults = faults
        fetched = hook_body(fhirServer=fhir.base_url, fhirAuthorization=fhir_auth())
        answers.append(post(service, fetched))
    # a bad request whose offending value is PHI, and a patient of the wrong id
    bad = hook_body(prefetch={"patient": {"resourceType": "Patient", "id": MRN,
                                          "name": [{"family": FAMILY}]}})  # fmt: skip
    answers.append(post(service, bad))
    answers.append(post(service, {**hook_body(), "context": {"patientId": 12345, "userId": GIVEN}}))
    item = {
        "card": "6f1c1b9e-2f0a-4c59-9a53-0d6c0f6f0b7e",
        "outcome": "overridden",
        "overrideReason": {"userComment": COMMENT},
        "outcomeTimestamp": "2026-03-15T10:00:00+13:00",
    }
    feedback = {"feedback": [item]}
    answers.append(post(service + "/feedback", feedback))
    if jwt_for:  # a refused token must not be logged either
        refused = {"Authorization": f"Bearer {jwt_for('/x', expired=True)}"}
        expired = requests.get(f"{base_url}/cds-services", timeout=30, headers=refused)
        assert expired.status_code == 401
    statuses = [answer.status_code for answer in answers]
    assert 200 in statuses and 400 in statuses and 500 not in statuses, statuses
    assert any(a.status_code == 200 and a.json()["cards"] for a in answers), "no cards at all"


def assert_clean(text: str, tokens: list[str]) -> None:
    assert text.strip(), "nothing was logged: the capture is broken"
    for secret in [*PHI, *tokens]:
        assert secret not in text, f"{secret!r} appears in the logs"


@pytest.fixture
def phi_fhir() -> Iterator[tuple[MisbehavingFhir, dict[str, Any]]]:
    bundle = phi_bundle()
    with misbehaving_fhir() as server:
        server.load(bundle)
        yield server, bundle


@pytest.fixture
def everything_at_debug() -> Iterator[io.StringIO]:
    """Our JSON handler on the root, and every logger that exists or will exist at DEBUG."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    configure_logging("DEBUG", stream)
    for name in [*logging.root.manager.loggerDict, "urllib3", "werkzeug", "requests"]:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)


def test_in_process_server_logs_no_phi_or_token_at_debug(
    tmp_path: Path,
    phi_fhir: tuple[MisbehavingFhir, dict[str, Any]],
    everything_at_debug: io.StringIO,
) -> None:
    fhir, bundle = phi_fhir
    key = ec_key()
    (tmp_path / "jwks.json").write_text(json.dumps(jwks_document(key)))
    issuers = write_issuers_file(tmp_path, {ISSUER: {"jwks_file": "jwks.json"}})
    server = make_server("127.0.0.1", 0, _placeholder_app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    server.app = create_app({
        "database_url": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "auth_required": True,
        "auth_issuers_file": str(issuers),
        "public_base_url": base_url,
        "log_level": "DEBUG",
    }, clock=lambda: SCENARIO_NOW)  # fmt: skip
    tokens: list[str] = []

    def jwt_for(path: str, expired: bool = False) -> str:
        token = make_token(key, audience=base_url + path, now=SCENARIO_NOW,
                           lifetime_s=-3600 if expired else 300)  # fmt: skip
        tokens.append(token)
        return token

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        exercise(base_url, fhir, bundle, jwt_for)
    finally:
        server.shutdown()
        thread.join(timeout=5)
    text = everything_at_debug.getvalue()
    assert '"logger":"werkzeug"' in text and '"logger":"urllib3' in text  # both were captured
    assert '"logger":"cds_service.web.audit"' in text
    assert_clean(text, [*tokens, *(t.split(".")[2] for t in tokens)])


def _placeholder_app(environ: Any, start_response: Any) -> Any:
    start_response("503 Service Unavailable", [])
    return [b""]


def log_entries(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # not one of ours (gunicorn writes a plain line or two before logging is set)
        if isinstance(entry, dict):
            yield entry


def wait_for_log_entry(
    path: Path, wanted: Callable[[dict[str, Any]], bool], timeout_s: float = 30.0
) -> str:
    """The log file's text once it holds an entry `wanted` accepts: another process writes the
    file, so it is read again until that line is there (or the time is up: then the test fails)."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = path.read_text()
        if any(wanted(entry) for entry in log_entries(text)):
            return text
        assert time.monotonic() < deadline, f"no such log line in {timeout_s} s:\n{text[-2000:]}"
        time.sleep(0.02)


def _refused_token_audit(entry: dict[str, Any]) -> bool:
    """The audit line of the last request `exercise` sends: discovery with an expired token."""
    return entry.get("logger") == "cds_service.web.audit" and entry.get("status") == 401


@pytest.mark.server
@pytest.mark.timeout(120)
def test_production_server_logs_no_phi_or_token_at_debug(
    tmp_path: Path, phi_fhir: tuple[MisbehavingFhir, dict[str, Any]]
) -> None:
    fhir, bundle = phi_fhir
    tokens: list[str] = []
    with load.running_server(tmp_path, auth=True, workers=1, log_level="DEBUG") as server:

        def jwt_for(path: str, expired: bool = False) -> str:
            token = server.token(path, lifetime_s=-3600 if expired else 300)["Authorization"]
            tokens.append(token.removeprefix("Bearer "))
            return tokens[-1]

        exercise(server.base_url, fhir, bundle, jwt_for)
        # the last request's audit line is in the file: every line before it is too
        wait_for_log_entry(server.log_path, _refused_token_audit)
    output = server.log_path.read_text()
    assert '"logger":"gunicorn.error"' in output
    assert '"logger":"cds_service.web.audit"' in output
    assert_clean(output, [*tokens, *(t.split(".")[2] for t in tokens)])
