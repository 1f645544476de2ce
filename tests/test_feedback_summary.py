"""Feedback summary: accepted/overridden counts and override reasons per card topic, over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from schema_check import assert_error, assert_valid

from cds_service.store.summary import TopicSummary
from cds_service.web.feedback_summary import summary_json
from fhir_fixtures.clocks import SCENARIO_NOW

SEED_REQUEST = Path(__file__).parent.parent / "fhir_fixtures/scenarios/in-seed-case/request.json"


def issue_seed_cards(app: Flask) -> dict[str, str]:
    """Topic -> uuid of the cards one hook call on the seed case answered with."""
    response = app.test_client().post(
        "/cds-services/jdm-ivig", json=json.loads(SEED_REQUEST.read_text())
    )
    assert response.status_code == 200
    cards = assert_valid(response, "HookResponse")["cards"]
    return {card["source"]["topic"]["code"]: card["uuid"] for card in cards}


def feedback(card_uuid: str, outcome: str, reason: dict[str, str] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "card": card_uuid,
        "outcome": outcome,
        "outcomeTimestamp": "2026-03-15T10:05:00+13:00",
    }
    if reason is not None:
        item["overrideReason"] = {"reason": reason, "userComment": "spoke to mum on the phone"}
    return item


def test_summary_counts_outcomes_and_reasons_per_topic(make_app: Callable[..., Flask]) -> None:
    app = make_app(clock=lambda: SCENARIO_NOW)
    calls = [issue_seed_cards(app) for _ in range(3)]  # three calls: three cards of each topic
    assert set(calls[0]) == {"ivig-start", "dysphagia-aspiration"}
    family = {
        "system": "https://jdm-cds.example.org/fhir/CodeSystem/override-reason",
        "code": "discussed-with-family",
        "display": "what the client calls it",
    }
    items = [
        feedback(calls[0]["ivig-start"], "accepted"),
        feedback(calls[1]["ivig-start"], "overridden", family),
        feedback(calls[2]["ivig-start"], "overridden", family),
        feedback(calls[2]["ivig-start"], "overridden", family),  # the same card again: once
        feedback(calls[0]["dysphagia-aspiration"], "accepted"),
    ]
    client = app.test_client()
    stored = client.post("/cds-services/jdm-ivig/feedback", json={"feedback": items})
    assert stored.status_code == 200, stored.get_data(as_text=True)
    assert stored.get_json() == {"stored": 4}

    response = client.get("/cds-services/jdm-ivig/feedback/summary")
    assert response.status_code == 200
    summary = assert_valid(response, "FeedbackSummary")
    assert summary == {
        "service": "jdm-ivig",
        "topics": [
            {
                "topic": "ivig-start",
                "accepted": 1,
                "overridden": 2,
                "overrideReasons": [
                    {
                        "code": "discussed-with-family",
                        "count": 2,
                        "display": "Already discussed with family",  # the card's, not the client's
                    }
                ],
            },
            {"topic": "dysphagia-aspiration", "accepted": 1, "overridden": 0},
        ],
        "unlinked": 0,
    }
    assert "mum" not in response.get_data(as_text=True)  # comments never leave the store


def test_summary_json_orders_topics_and_embeds_the_reasons_as_written() -> None:
    topics = [
        TopicSummary("zz-local-topic", 0, 1, "[]"),
        TopicSummary(None, 2, 1, "[]"),
        TopicSummary("dysphagia-aspiration", 1, 0, "[]"),
        TopicSummary("ivig-start", 0, 2, '[{"code": "c", "count": 2}]'),
    ]
    summary = json.loads(summary_json("jdm-ivig", topics))
    assert summary == {
        "service": "jdm-ivig",
        "topics": [
            {"topic": "ivig-start", "accepted": 0, "overridden": 2,
             "overrideReasons": [{"code": "c", "count": 2}]},
            {"topic": "dysphagia-aspiration", "accepted": 1, "overridden": 0},
            {"topic": "zz-local-topic", "accepted": 0, "overridden": 1},
        ],
        "unlinked": 3,
    }  # fmt: skip


def test_summary_of_no_feedback_is_empty(client: Any) -> None:
    response = client.get("/cds-services/jdm-ivig/feedback/summary")
    assert assert_valid(response, "FeedbackSummary") == {
        "service": "jdm-ivig",
        "topics": [],
        "unlinked": 0,
    }


def test_summary_of_unknown_service_is_404(client: Any) -> None:
    assert_error(client.get("/cds-services/nope/feedback/summary"), 404)
