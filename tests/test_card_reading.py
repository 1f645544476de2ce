"""Cards that read in ten seconds (docs/clinical/card-contract.md), over every scenario's response.

The responses are the golden files, which tests/test_golden_responses.py holds equal to what the
live app answers: so these properties hold for the service's real answers. In each response:
no empty list or empty string anywhere; every summary ends on a whole word (never cut); no record
id and no internal key name in a summary or a detail (they belong in the evidence extension), nor
in the other words a clinician reads: the labels of draft orders and links, the draft orders'
descriptions and the override reasons (where a card topic's or an order set's id is an internal
key too); the therapy timeline at most once; and the seed case's IVIG card detail within 2,500
characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "fhir_fixtures" / "scenarios"
RESPONSES = sorted(p.parent.name for p in SCENARIO_DIR.glob("*/golden-response.json"))
TIMELINE_HEADING = "**Therapy so far**"
SEED_DETAIL_MOST = 2500
# a FHIR reference (Observation/x-1), a snake_case name (weight_kg, escaped as weight\_kg), a
# threshold's key (cmas_red_flag) or a placeholder left unfilled ({course_total_g})
RECORD_ID = re.compile(
    r"\b(Patient|Observation|Condition|Medication\w*|Procedure|Immunization|"
    r"AllergyIntolerance|ServiceRequest)/[A-Za-z0-9\-.]+"
)
INTERNAL_NAME = re.compile(r"\b[a-z0-9]+(\\?_[a-z0-9]+)+\b|\{[a-z_:.|]+\}")
CARDS_DIR = SCENARIO_DIR.parent.parent / "cards"
# the ids of card topics and order sets ("ivig-baseline", "jdm-extramuscular"): keys, not words
INTERNAL_IDS = re.compile(
    r"(?<![\w-])("
    + "|".join(
        sorted(
            [
                *json.loads((CARDS_DIR / "card-texts.json").read_text("utf-8"))["topics"],
                *(path.stem for path in (CARDS_DIR / "order-sets").glob("*.json")),
            ],
            key=len,
            reverse=True,
        )
    )
    + r")(?![\w-])"
)


def cards_of(name: str) -> list[dict[str, Any]]:
    answer = json.loads((SCENARIO_DIR / name / "golden-response.json").read_text("utf-8"))
    cards: list[dict[str, Any]] = answer["cards"]
    return cards


def empties(value: Any, path: str = "") -> Iterator[str]:
    if value == "" or value == [] or value == {}:
        yield path or "(response)"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from empties(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from empties(item, f"{path}[{index}]")


@pytest.mark.parametrize("name", RESPONSES)
def test_no_empty_list_or_string_anywhere(name: str) -> None:
    # `{"cards": []}` itself is CDS Hooks' answer when nothing applies: the empties looked for are
    # inside the cards and beside them
    answer = json.loads((SCENARIO_DIR / name / "golden-response.json").read_text("utf-8"))
    found = [path for key, item in answer.items() for path in empties(item, key) if path != "cards"]
    assert found == []


@pytest.mark.parametrize("name", RESPONSES)
def test_words_a_clinician_reads(name: str) -> None:
    cards = cards_of(name)
    for card in cards:
        summary, detail = card["summary"], card.get("detail", "")
        assert not summary.endswith(("…", "...")), f"cut summary: {summary!r}"
        assert summary[-1].isalnum() or summary[-1] in ")%", f"summary ends oddly: {summary!r}"
        for text in (summary, detail):
            assert not RECORD_ID.search(text), RECORD_ID.search(text)
            assert not INTERNAL_NAME.search(text), INTERNAL_NAME.search(text)
    assert sum(TIMELINE_HEADING in card.get("detail", "") for card in cards) <= 1


def other_words(card: dict[str, Any]) -> Iterator[str]:
    """What a clinician reads besides the summary and the detail: the labels of draft orders and
    links, each draft order's description and the override reasons."""
    for suggestion in card.get("suggestions", []):
        yield suggestion["label"]
        yield from (action["description"] for action in suggestion.get("actions", []))
    yield from (link["label"] for link in card.get("links", []))
    yield from (reason["display"] for reason in card.get("overrideReasons", []))


@pytest.mark.parametrize("name", RESPONSES)
def test_no_key_or_id_in_the_words_a_clinician_reads(name: str) -> None:
    for card in cards_of(name):
        for text in (card["summary"], card.get("detail", ""), *other_words(card)):
            for pattern in (RECORD_ID, INTERNAL_NAME, INTERNAL_IDS):
                assert not pattern.search(text), (pattern.search(text), text)


def test_the_seed_cases_ivig_card_reads_in_ten_seconds() -> None:
    (start,) = [c for c in cards_of("in-seed-case") if c["source"]["topic"]["code"] == "ivig-start"]
    detail = start["detail"]
    assert len(detail) <= SEED_DETAIL_MOST, len(detail)
    # the recommendation, the reasons with dates, the dose and the timeline, in that order
    parts = ("IVIG 2 g/kg", "**Why**", "**Dose**", TIMELINE_HEADING)
    order = [detail.index(part) for part in parts]
    assert order == sorted(order)
    assert re.search(r"Red flag: dysphagia since \d{4}-\d{2}-\d{2}", detail)
