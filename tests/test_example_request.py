"""The README's example: `jdm-cds example-request` piped to the service answers with the seed cards.

The app runs on the real clock here (not the frozen one): the command dates the fixture to today,
so the 26 kg weight is recent and the dose is given.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from cds_service.commands.cli import main

EVIDENCE = "org.jdm-cds.evidence"


def test_example_request_gets_the_seed_cards_on_todays_clock(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, assert_valid: Any
) -> None:
    from cds_service.app import create_app

    assert main(["example-request"]) == 0
    request = json.loads(capsys.readouterr().out)
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}"})  # real clock

    response = app.test_client().post("/cds-services/jdm-ivig", json=request)

    assert response.status_code == 200, response.get_data(as_text=True)
    body = assert_valid(response, "HookResponse")
    cards = {card["source"]["topic"]["code"]: card for card in body["cards"]}
    assert set(cards) == {"ivig-start", "dysphagia-aspiration"}
    assert cards["ivig-start"]["indicator"] == "critical"
    dose = cards["ivig-start"]["extension"][EVIDENCE]["dose"]
    assert Decimal(dose["courseTotalG"]) == Decimal("52")
    assert Decimal(dose["perDayG"]) == Decimal("26")
    assert dose["days"] == 2


def test_example_request_refuses_an_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["example-request", "../patients"]) == 2
    assert "no scenario named" in capsys.readouterr().err
