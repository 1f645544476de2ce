"""Another patient's resources never surface on this patient's cards, not even by id.

The data-quality card says that a record of another patient was left out, but withholds its id:
an identifier from one chart has no place on another.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask

SCENARIO = (
    Path(__file__).resolve().parents[2] / "fhir_fixtures/scenarios/in-robustness-other-patient"
)


def test_no_card_names_another_patients_resource(make_app: Any) -> None:
    request = json.loads((SCENARIO / "request.json").read_text())
    expected = json.loads((SCENARIO / "expected.json").read_text())
    foreign_ids = [ref.split("/", 1)[1] for ref in expected["forbiddenResources"]]
    assert foreign_ids, "the fixture must carry another patient's resources"
    app: Flask = make_app(clock=_fixture_clock(expected["now"]))

    response = app.test_client().post("/cds-services/jdm-ivig", json=request)

    assert response.status_code == 200
    body_text = response.get_data(as_text=True)
    for foreign_id in foreign_ids:
        assert foreign_id not in body_text
    topics = [card["source"]["topic"]["code"] for card in response.get_json()["cards"]]
    assert "ivig-start" in topics


def _fixture_clock(iso: str) -> Any:
    from datetime import datetime

    frozen = datetime.fromisoformat(iso)
    return lambda: frozen
