"""Clinical acceptance scenarios (fhir_fixtures/scenarios/): every fixture through the live app.

Each scenario is posted twice: with its full prefetch, and with NO prefetch and `fhirServer` set
to a real FHIR server (sekmet) loaded with the scenario's transaction Bundle (the fetch path).
Both answers must validate against the OpenAPI schemas, keep the card contract
(docs/clinical/card-contract.md), and match expected.json field by field; every link must resolve.

The expectations are written by hand from docs/clinical/ (see the scenarios' README),
never from the service's output. The clock is frozen at 2026-03-15T10:00 Pacific/Auckland, the
date the fixtures are written against; conftest's `app` freezes another date, so this module builds
its own app (module-scoped: one knowledge load for all the calls) with the foundation's
`create_app(..., clock=...)`, and reuses conftest's session `fhir_server` and `assert_valid`.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from scenario_contract import TOPIC_ORDER, contract_problems, order_problems
from scenario_support import expectation_problems
from schema_check import assert_valid

from cds_service.app import create_app
from fhir_fixtures.clocks import SCENARIO_NOW

REPO_ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = REPO_ROOT / "fhir_fixtures" / "scenarios"
CLINICAL_DOCS = REPO_ROOT / "docs" / "clinical"
SCENARIOS = sorted(p.name for p in SCENARIO_DIR.iterdir() if (p / "expected.json").is_file())
PUBLIC_BASE_URL = "http://jdm-cds.test"
SERVICE_URL = "/cds-services/jdm-ivig"

# docs/clinical/decision-model.md's topic table (compared with the docs when present): the
# contract's order
TOPICS = TOPIC_ORDER
SAFETY_CHECKS = (
    "anaphylaxis-to-ig",
    "iga-deficiency",
    "anti-iga",
    "anti-iga-reaction",
    "iga-low",
    "iga-unknown",
    "renal",
    "renal-severe",
    "renal-unjudged",
    "thrombosis",
    "hemolysis",
    "cardiac-fluid",
    "live-vaccine",
    "live-vaccine-immunosuppressed",
    "vaccine-deferral",
    "migraine",
)
# the thresholds the issue names, each with the boundary fixtures that sit on it
REQUIRED_BOUNDARIES = {
    "methotrexate 12 weeks": (
        "boundary-ivig-start-methotrexate-12-weeks",
        "boundary-first-line-window-methotrexate-83-days",
    ),
    "weight 30 days": ("boundary-weight-needed-30-days", "boundary-weight-needed-31-days"),
    "cap 70 g": ("boundary-ivig-start-cap-35-kg",),
    "8 weeks since IVIG": ("boundary-ivig-course-due-last-infusion-8-weeks-ago",),
    "next IVIG course overdue at 35 days": (
        "boundary-ivig-course-due-35-days",
        "boundary-ivig-course-due-36-days",
    ),
    "IVIG trial lapsed at 26 weeks": (
        "boundary-ivig-course-due-trial-26-weeks",
        "boundary-ivig-start-trial-lapsed",
    ),
    "3 IVIG courses": (
        "boundary-escalate-after-ivig-3-courses",
        "boundary-escalate-after-ivig-2-courses",
    ),
    "eGFR 60": ("boundary-ivig-safety-renal-egfr-60", "boundary-ivig-safety-renal-egfr-59"),
    "eGFR 30": ("boundary-safety-renal-severe-egfr-30", "boundary-safety-renal-severe-egfr-29"),
    "CMAS 15": ("boundary-ivig-start-cmas-14-red-flag", "boundary-first-line-window-cmas-15"),
    "CMAS 48": ("boundary-ivig-start-cmas-47", "boundary-ivig-start-cmas-48"),
    "severe dysphagia": ("boundary-severe-organ-disease-dysphagia-moderate",),
    "child-bearing potential 10 years": (
        "boundary-contraception-age-10",
        "boundary-contraception-age-9",
    ),
    "adult 18 years": ("boundary-rituximab-adult-at-18",),
    "problem-list entry stale at 6 months": (
        "boundary-data-quality-stale-problem-6-months",
        "boundary-data-quality-stale-problem-6-months-less-a-day",
    ),
    "methotrexate once weekly": (
        "boundary-methotrexate-schedule-every-7-days",
        "boundary-methotrexate-schedule-every-6-days",
        "boundary-methotrexate-schedule-twice-a-week",
    ),
    "methotrexate given more than 2 times within 7 days": (
        "boundary-methotrexate-schedule-given-3-in-7-days",
        "boundary-methotrexate-schedule-given-3-in-8-days",
    ),
}


def load(name: str, file: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SCENARIO_DIR / name / file).read_text())
    return document


@pytest.fixture(scope="module")
def scenario_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    store = tmp_path_factory.mktemp("scenario-store") / "jdm-cds.sqlite3"
    settings = {"database_url": f"sqlite:///{store}", "public_base_url": PUBLIC_BASE_URL}
    return create_app(settings, clock=lambda: SCENARIO_NOW)


@pytest.fixture(scope="module")
def scenario_client(scenario_app: Flask) -> FlaskClient:
    return scenario_app.test_client()


# small pages, so the fetch path follows Bundle.link[next] (40+ methotrexate doses, ~15 labs)
FETCH_PAGE_SIZE = 10


@pytest.fixture(scope="module")
def fetch_client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    """An app that gathers everything from the FHIR server, in pages of FETCH_PAGE_SIZE."""
    store = tmp_path_factory.mktemp("scenario-fetch-store") / "jdm-cds.sqlite3"
    settings = {
        "database_url": f"sqlite:///{store}",
        "public_base_url": PUBLIC_BASE_URL,
        "fhir_page_size": FETCH_PAGE_SIZE,
    }
    return create_app(settings, clock=lambda: SCENARIO_NOW).test_client()


@pytest.fixture(scope="module")
def prefetch_keys(scenario_client: FlaskClient) -> dict[str, str]:
    """The service's prefetch keys -> the FHIR resource type each asks for, read from discovery."""
    discovery = scenario_client.get("/cds-services").get_json()
    service = next(s for s in discovery["services"] if s["id"] == "jdm-ivig")
    return {
        key: re.split(r"[/?]", template, maxsplit=1)[0]
        for key, template in service["prefetch"].items()
    }


@pytest.fixture(scope="module")
def loaded_fhir_server(fhir_server: Any) -> Iterator[Any]:
    """The session's sekmet server holding every scenario's transaction Bundle."""
    for name in SCENARIOS:
        fhir_server.load(load(name, "bundle.json"))
    yield fhir_server


def with_prefetch(name: str, prefetch_keys: dict[str, str]) -> dict[str, Any]:
    """request.json with exactly the service's current keys (a key it lacks: an empty search)."""
    request = load(name, "request.json")
    empty = {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}
    request["prefetch"] = {
        key: request["prefetch"].get(key, copy.deepcopy(empty)) for key in prefetch_keys
    }
    return request


def problems_in(
    response: Any, expected: dict[str, Any], link_status: Callable[[str], int]
) -> list[str]:
    if response.status_code != 200:
        return [f"HTTP {response.status_code}: {response.get_data(as_text=True)[:500]}"]
    body = assert_valid(response, "HookResponse")
    cards = body["cards"]
    problems = order_problems(cards)
    for card in cards:
        problems += contract_problems(card, expected["patientId"])
        for link in card.get("links") or []:
            status = link_status(link["url"])
            if status != 200:
                problems.append(f"link {link['url']} answered {status}")
    problems += expectation_problems(cards, expected)
    return problems


@pytest.fixture(scope="module")
def link_status(scenario_client: FlaskClient) -> Callable[[str], int]:
    seen: dict[str, int] = {}

    def status(url: str) -> int:
        if url not in seen:
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}" != PUBLIC_BASE_URL:
                seen[url] = -1  # not built from the public base URL setting
            else:
                seen[url] = scenario_client.get(parts.path).status_code
        return seen[url]

    return status


def report(name: str, problems: list[str]) -> str:
    expected = load(name, "expected.json")
    return f"{name}: {expected['proves']}\n  - " + "\n  - ".join(problems)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_with_prefetch(
    name: str,
    scenario_client: FlaskClient,
    prefetch_keys: dict[str, str],
    link_status: Callable[[str], int],
) -> None:
    expected = load(name, "expected.json")
    # a record only the prefetch can carry (a server refuses it) changes the prefetch's cards
    expected |= expected.get("prefetchPath", {})
    response = scenario_client.post(SERVICE_URL, json=with_prefetch(name, prefetch_keys))
    problems = problems_in(response, expected, link_status)
    assert not problems, report(name, problems)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_through_fetch_path(
    name: str,
    fetch_client: FlaskClient,
    loaded_fhir_server: Any,
    link_status: Callable[[str], int],
) -> None:
    expected = load(name, "expected.json")
    request = load(name, "request.json")
    del request["prefetch"]
    request["fhirServer"] = loaded_fhir_server.base_url
    response = fetch_client.post(SERVICE_URL, json=request)
    problems = problems_in(response, expected, link_status)
    assert not problems, report(name, problems)


# --- the fixtures themselves ---------------------------------------------------------------------


def test_fixture_files_match_their_builder() -> None:
    """The JSON on disk is what build_scenarios.py writes (no hand edits, nothing stale)."""
    result = subprocess.run(
        [sys.executable, "-m", "fhir_fixtures.scenarios.build_scenarios", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_request_prefetch_keys_match_discovery(prefetch_keys: dict[str, str]) -> None:
    for name in SCENARIOS:
        assert set(load(name, "request.json")["prefetch"]) == set(prefetch_keys), name


def _fixtures_for(prefixes: tuple[str, ...], kind: str) -> list[str]:
    return [
        name
        for name in SCENARIOS
        if any(name == f"{kind}-{p}" or name.startswith(f"{kind}-{p}-") for p in prefixes)
    ]


@pytest.mark.parametrize("kind", ["in", "out", "boundary"])
def test_every_topic_and_safety_check_has_its_fixture(kind: str) -> None:
    missing = [topic for topic in TOPICS if not _fixtures_for((topic,), kind)]
    for check in SAFETY_CHECKS:
        if not _fixtures_for((f"safety-{check}", f"ivig-safety-{check}"), kind):
            missing.append(f"safety check {check}")
    assert not missing, f"no {kind}- fixture for: {missing}"


def test_boundary_fixtures_state_their_threshold() -> None:
    for name in SCENARIOS:
        if name.startswith("boundary-"):
            threshold = load(name, "expected.json").get("threshold") or {}
            assert {"name", "value", "side", "why"} <= set(threshold), name
    for threshold, names in REQUIRED_BOUNDARIES.items():
        missing = [n for n in names if n not in SCENARIOS]
        assert not missing, f"{threshold}: missing {missing}"


def test_seed_case_is_present_and_critical() -> None:
    expected = load("in-seed-case", "expected.json")
    ivig = next(c for c in expected["cards"] if c["topic"] == "ivig-start")
    assert ivig["indicator"] == "critical"
    assert ivig["dose"]["courseTotalG"] == "52" and ivig["dose"]["perDayG"] == "26"
    assert "dysphagia-aspiration" in expected["topics"]


def test_topic_and_check_lists_match_the_clinical_docs() -> None:
    """The lists above are the tables of docs/clinical/ (the project's own clinical spec)."""
    decision_model = CLINICAL_DOCS / "decision-model.md"
    safety = CLINICAL_DOCS / "safety.md"
    topics = set(
        re.findall(
            r"`((?:ivig|weight|first|dysphagia|escalate|extramuscular|steroid|data|severe|methotrexate)"
            r"-[a-z-]+)`",
            decision_model.read_text(),
        )
    )
    topics.discard("ivig-safety-")
    assert topics == set(TOPICS), topics ^ set(TOPICS)
    checks = set(re.findall(r"^\| `([a-z-]+)` \|", safety.read_text(), flags=re.MULTILINE))
    assert checks == set(SAFETY_CHECKS), checks ^ set(SAFETY_CHECKS)


def test_the_checker_catches_wrong_answers(
    scenario_client: FlaskClient, prefetch_keys: dict[str, str]
) -> None:
    """Feed the checker the seed's real answer against deliberately wrong expectations."""
    expected = load("in-seed-case", "expected.json")
    cards = scenario_client.post(SERVICE_URL, json=with_prefetch("in-seed-case", prefetch_keys))
    cards = cards.get_json()["cards"]
    wrong = copy.deepcopy(expected)
    ivig = next(c for c in wrong["cards"] if c["topic"] == "ivig-start")
    ivig["dose"]["courseTotalG"] = "53"
    ivig["medicationRequest"]["days"] = 3
    ivig["indicator"] = "warning"
    ivig["safetyChecks"]["absent"] = ["vaccine-deferral"]
    wrong["forbiddenResources"] = [ivig["dose"]["weightObservation"]]
    problems = "\n".join(expectation_problems(cards, wrong))
    for needle in ("courseTotalG", "timing", "indicator", "vaccine-deferral", "appears on"):
        assert needle in problems, f"{needle!r} not caught:\n{problems}"
    wrong["topics"] = ["ivig-start"]
    assert any("topics" in p for p in expectation_problems(cards, wrong))
    broken = copy.deepcopy(cards[0])
    broken["summary"] = "x" * 140
    broken["links"] = []
    assert len(contract_problems(broken, expected["patientId"])) >= 2
    assert order_problems(list(reversed(cards)))
