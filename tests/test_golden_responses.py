"""Golden hook responses: every scenario's whole answer, byte for byte.

For each scenario folder under ``fhir_fixtures/scenarios/`` the request (full prefetch) is posted
with the clock frozen at the scenarios' date and uuids drawn from a counter, and the answer is
compared with ``golden-response.json`` beside it: cards, suggestions, links, evidence, every
character. ``expected.json`` checks what a clinician needs field by field; this file catches any
change at all, so a refactoring that should change nothing provably changes nothing.

A clinical change that alters a response on purpose rewrites the files with
``JDM_CDS_UPDATE_GOLDEN=1 make pytest PYTEST_ARGS=tests/test_golden_responses.py`` and the diff is
reviewed in the commit.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from cds_service.app import create_app
from fhir_fixtures.clocks import SCENARIO_NOW

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "fhir_fixtures" / "scenarios"
SCENARIOS = sorted(p.name for p in SCENARIO_DIR.iterdir() if (p / "request.json").is_file())
GOLDEN_FILE = "golden-response.json"
UPDATE = os.environ.get("JDM_CDS_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def golden_client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    store = tmp_path_factory.mktemp("golden-store") / "jdm-cds.sqlite3"
    settings = {"database_url": f"sqlite:///{store}", "public_base_url": "http://jdm-cds.test"}
    return create_app(settings, clock=lambda: SCENARIO_NOW).test_client()


@pytest.fixture
def counted_uuids(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """uuid4() as a counter (00000000-0000-4000-8000-000000000001, ...), fresh per test."""
    counter = iter(range(1, 1_000_000))
    monkeypatch.setattr(
        uuid, "uuid4", lambda: uuid.UUID(f"00000000-0000-4000-8000-{next(counter):012d}")
    )
    yield


def render(answer: Any) -> str:
    return json.dumps(answer, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


@pytest.mark.parametrize("name", SCENARIOS)
def test_response_is_the_golden_one(
    name: str, golden_client: FlaskClient, counted_uuids: None
) -> None:
    request = json.loads((SCENARIO_DIR / name / "request.json").read_text(encoding="utf-8"))
    response = golden_client.post("/cds-services/jdm-ivig", json=request)
    assert response.status_code == 200, response.get_data(as_text=True)
    rendered = render(response.get_json())
    golden_path = SCENARIO_DIR / name / GOLDEN_FILE
    if UPDATE:
        golden_path.write_text(rendered, encoding="utf-8")
    assert golden_path.is_file(), f"{golden_path} missing: record it with JDM_CDS_UPDATE_GOLDEN=1"
    assert rendered == golden_path.read_text(encoding="utf-8")
