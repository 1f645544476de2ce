"""pipeline.evaluate: raw FHIR (prefetch values as received) -> cards, without HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rules_builders import NOW

from cds_service.knowledge.loader import Knowledge
from cds_service.pipeline import evaluate

SCENARIOS = Path(__file__).resolve().parents[2] / "fhir_fixtures" / "scenarios"


def gathered(name: str) -> tuple[list[Any], str]:
    request = json.loads((SCENARIOS / name / "request.json").read_text())
    resources = [value for value in request["prefetch"].values() if value is not None]
    return resources, request["context"]["patientId"]


def test_seed_case_end_to_end(knowledge: Knowledge) -> None:
    resources, context = gathered("in-seed-case")
    result = evaluate(resources, context, knowledge, NOW, public_base_url="https://cds.example")
    assert [c["source"]["topic"]["code"] for c in result.cards] == [
        "ivig-start",
        "dysphagia-aspiration",
    ]
    assert result.extra["inScope"] is True
    assert result.cards[0]["extension"]["org.jdm-cds.evidence"]["dose"]["courseTotalG"] == "52"
    assert all(
        link["url"].startswith("https://cds.example/order-sets/")
        for card in result.cards
        for link in card.get("links", [])
    )


@pytest.mark.parametrize("name", ["out-scope-deceased", "out-scope-adult-dermatomyositis"])
def test_out_of_scope_gets_no_cards_even_with_gather_notes(knowledge: Knowledge, name: str) -> None:
    resources, context = gathered(name)
    result = evaluate(
        resources, context, knowledge, NOW, public_base_url="https://x", gather_notes=("cut",)
    )
    assert result.cards == [] and result.extra["inScope"] is False


def test_gather_notes_become_a_data_quality_card(knowledge: Knowledge) -> None:
    resources, context = gathered("in-seed-case")
    note = "MedicationAdministration search cut short after 20 pages"
    result = evaluate(
        resources, context, knowledge, NOW, public_base_url="https://x", gather_notes=(note,)
    )
    quality = [c for c in result.cards if c["source"]["topic"]["code"] == "data-quality"]
    assert len(quality) == 1 and note in quality[0]["detail"]
