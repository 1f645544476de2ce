"""Feedback over HTTP (no PHI, linked to card topics, surviving a restart) and the store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from foundation_data import JDM_PATIENT_ID, jdm_patient_resources
from hook_requests import patient_view
from schema_check import assert_error, assert_valid

from cds_service.store.database import IssuedCard, open_store
from cds_service.store.feedback import TOPIC_SYSTEM
from cds_service.web.state import state
from fhir_fixtures.clocks import FROZEN_NOW

FEEDBACK_URL = "/cds-services/jdm-ivig/feedback"
COMMENT = "Discussed with Jane Doe's mother on ward 4"


def overridden(card_uuid: str, **extra: Any) -> dict[str, Any]:
    item = {
        "card": card_uuid,
        "outcome": "overridden",
        "overrideReason": {
            "reason": {
                "system": "https://example.org/override",
                "code": "treated-elsewhere",
                "display": "treated elsewhere",
            },
            "userComment": COMMENT,
        },
        "outcomeTimestamp": "2026-03-10T09:45:00+13:00",
    }
    return {**item, **extra}


def accepted(card_uuid: str) -> dict[str, Any]:
    return {
        "card": card_uuid,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": "sugg-1"}, {"id": "sugg-2"}],
        "outcomeTimestamp": "2026-03-09T20:45:00Z",
    }


def test_feedback_is_stored_and_survives_a_restart(make_app: Callable[..., Flask]) -> None:
    first = make_app()
    response = first.test_client().post(
        FEEDBACK_URL, json={"feedback": [overridden("card-a"), accepted("card-b")]}
    )
    assert response.status_code == 200
    assert assert_valid(response, "FeedbackResponse") == {"stored": 2}
    state(first).store.close()

    restarted = make_app()  # same SQLite file, new app (a new process would do the same)
    rows = state(restarted).store.feedback_rows()
    assert [(r["card_uuid"], r["outcome"]) for r in rows] == [
        ("card-a", "overridden"),
        ("card-b", "accepted"),
    ]
    assert rows[0]["override_reason_code"] == "treated-elsewhere"
    assert rows[0]["override_reason_display"] == "treated elsewhere"
    assert rows[0]["user_comment_present"] is True
    assert rows[1]["accepted_suggestions"] == '["sugg-1", "sugg-2"]'
    assert rows[1]["user_comment_present"] is False
    # the same instant whatever offset it came with
    assert rows[0]["outcome_timestamp"] == datetime(2026, 3, 9, 20, 45, tzinfo=UTC)
    assert rows[1]["outcome_timestamp"] == rows[0]["outcome_timestamp"]
    assert rows[0]["service_id"] == "jdm-ivig"

    more = restarted.test_client().post(FEEDBACK_URL, json={"feedback": [accepted("card-c")]})
    assert more.status_code == 200
    assert len(state(restarted).store.feedback_rows()) == 3


def test_the_comment_text_is_never_written_to_disk(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app()
    app.test_client().post(FEEDBACK_URL, json={"feedback": [overridden("card-a")]})
    state(app).store.close()
    stored = b"".join(p.read_bytes() for p in (tmp_path / "store").iterdir() if p.is_file())
    assert b"card-a" in stored  # the row is there ...
    assert b"Jane Doe" not in stored and b"ward 4" not in stored  # ... its comment is not


def test_feedback_is_linked_to_the_topic_of_the_issued_card(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    store = state(app).store
    issued_at = FROZEN_NOW
    store.record_issued_cards([IssuedCard("card-t", "ivig-start")], "jdm-ivig", issued_at)
    app.test_client().post(FEEDBACK_URL, json={"feedback": [accepted("card-t"), accepted("x")]})
    topics = {r["card_uuid"]: r["topic"] for r in store.feedback_rows()}
    assert topics == {"card-t": "ivig-start", "x": None}


def test_cards_returned_by_a_hook_call_are_recorded_with_their_topic(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    resources = jdm_patient_resources()
    prefetch: dict[str, Any] = {"patient": resources[0]}
    for key, resource_type in (
        ("conditions", "Condition"),
        ("observations", "Observation"),
        ("medicationRequests", "MedicationRequest"),
        ("medicationAdministrations", "MedicationAdministration"),
        ("medicationStatements", "MedicationStatement"),
        ("procedures", "Procedure"),
        ("immunizations", "Immunization"),
        ("allergies", "AllergyIntolerance"),
    ):
        entries = [{"resource": r} for r in resources if r["resourceType"] == resource_type]
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    response = app.test_client().post(
        "/cds-services/jdm-ivig", json=patient_view(JDM_PATIENT_ID, prefetch=prefetch)
    )
    assert response.status_code == 200
    cards = assert_valid(response, "HookResponse")["cards"]
    assert cards, "a child with active JDM and gaps in screening gets at least one card"
    store = state(app).store
    for card in cards:
        assert card["source"]["topic"]["system"] == TOPIC_SYSTEM
        assert store.issued_card_topic(card["uuid"]) == card["source"]["topic"]["code"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"feedback": []}, "feedback"),
        ({}, "'feedback' is a required property"),
        (
            {
                "feedback": [
                    {"card": "c", "outcome": "maybe", "outcomeTimestamp": "2026-03-10T09:45:00Z"}
                ]
            },
            "feedback[0].outcome",
        ),
        ({"feedback": [{"card": "c", "outcome": "accepted"}]}, "outcomeTimestamp"),
        (
            {
                "feedback": [
                    {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-03-10T09:45:00"}
                ]
            },
            "feedback[0].outcomeTimestamp",
        ),
        (
            {
                "feedback": [
                    {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-02-30T09:45:00Z"}
                ]
            },
            "feedback[0].outcomeTimestamp",
        ),
    ],
)
def test_bad_feedback_is_400_naming_the_field(
    client: Any, body: dict[str, Any], field: str
) -> None:
    payload = assert_error(client.post(FEEDBACK_URL, json=body), 400, "invalid")
    assert field in payload["issue"][0]["diagnostics"]


def test_feedback_when_the_store_is_down_is_503_json(app: Flask) -> None:
    from sqlalchemy import create_engine

    state(app).store.engine = create_engine("sqlite:////proc/no-such-dir/x.sqlite3")
    response = app.test_client().post(FEEDBACK_URL, json={"feedback": [accepted("c")]})
    assert_error(response, 503, "transient")


# ---------------------------------------------------------------- the store itself


def test_store_creates_parent_folders_uses_wal_and_is_idempotent(tmp_path: Path) -> None:
    database = tmp_path / "a" / "b" / "store.sqlite3"
    first = open_store(f"sqlite:///{database}")
    second = open_store(f"sqlite:///{database}")  # schema creation again: no error
    assert database.exists()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    assert {"feedback", "issued_cards", "jwt_replay"} <= tables
    first.close()
    second.close()


def test_remember_jti_new_replayed_and_expired(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'jti.sqlite3'}")
    now = FROZEN_NOW
    assert store.remember_jti("j1", now + timedelta(minutes=5), now) is True
    assert store.remember_jti("j1", now + timedelta(minutes=5), now) is False
    later = now + timedelta(minutes=6)  # j1 has expired: purged, so it is "new" again
    assert store.remember_jti("j2", later + timedelta(minutes=5), later) is True
    assert store.remember_jti("j1", later + timedelta(minutes=5), later) is True
    store.close()


def test_remember_jti_mixed_time_zones_compare_as_instants(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'jti.sqlite3'}")
    now_nz = FROZEN_NOW
    store.remember_jti("j1", now_nz + timedelta(minutes=5), now_nz)
    now_utc = now_nz.astimezone(UTC) + timedelta(minutes=1)  # still before j1's expiry
    assert store.remember_jti("j1", now_utc + timedelta(minutes=5), now_utc) is False
    with pytest.raises(ValueError, match="naive"):
        store.remember_jti("j3", datetime(2026, 3, 10, 9, 30), now_utc)
    store.close()


def test_remember_jti_is_atomic_across_threads_and_store_instances(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    stores = [open_store(url), open_store(url)]  # two "workers" sharing one file
    now = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def claim(index: int) -> None:
        start.wait()
        fresh = stores[index % 2].remember_jti("same-jti", now + timedelta(minutes=5), now)
        with lock:
            results.append(fresh)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * 7 + [True]
    for store in stores:
        store.close()
