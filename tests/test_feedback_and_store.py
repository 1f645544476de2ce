"""Feedback over HTTP and the store: only what the card offered is stored (on SQLite and
PostgreSQL), no free text, one outcome per card, purged after the retention period, linked to
card topics, surviving a restart."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from foundation_data import JDM_PATIENT_ID, jdm_patient_resources
from hook_requests import patient_view
from schema_check import assert_error, assert_valid
from sqlalchemy import MetaData, select

from cds_service.store.database import open_store
from cds_service.store.feedback import TOPIC_SYSTEM
from cds_service.web.state import state
from fhir_fixtures.clocks import FROZEN_NOW, SCENARIO_NOW

FEEDBACK_URL = "/cds-services/jdm-ivig/feedback"
SEED_REQUEST = Path(__file__).parent.parent / "fhir_fixtures/scenarios/in-seed-case/request.json"
REASON_SYSTEM = "https://jdm-cds.example.org/fhir/CodeSystem/override-reason"
COMMENT = "Discussed with Jane Doe's mother on ward 4"
FREE_TEXT = "Jane Doe NHS 943 476 5919"  # what a client might put where only a code belongs


@dataclass
class Issued:
    """The seed case's two cards, as a hook call issued them."""

    app: Flask
    ivig: dict[str, Any]
    dysphagia: dict[str, Any]

    def post(self, *items: dict[str, Any]) -> Any:
        return self.app.test_client().post(FEEDBACK_URL, json={"feedback": list(items)})


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def issue_seed_cards(app: Flask) -> Issued:
    response = app.test_client().post(
        "/cds-services/jdm-ivig", json=json.loads(SEED_REQUEST.read_text())
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    cards = {
        c["source"]["topic"]["code"]: c for c in assert_valid(response, "HookResponse")["cards"]
    }
    return Issued(app, cards["ivig-start"], cards["dysphagia-aspiration"])


@pytest.fixture
def issued(make_app: Callable[..., Flask], database_url: str) -> Issued:
    """The seed case's cards issued by an app on a fresh store (SQLite, then PostgreSQL)."""
    return issue_seed_cards(make_app(clock=MovableClock(SCENARIO_NOW), database_url=database_url))


def overridden(card: dict[str, Any], code: str, **reason: Any) -> dict[str, Any]:
    return {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {
            "reason": {"system": REASON_SYSTEM, "code": code, "display": FREE_TEXT, **reason},
            "userComment": COMMENT,
        },
        "outcomeTimestamp": "2026-03-15T10:05:00+13:00",
    }


def accepted(card: dict[str, Any], *suggestion_ids: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "card": card["uuid"],
        "outcome": "accepted",
        "outcomeTimestamp": "2026-03-14T21:05:00Z",
    }
    if suggestion_ids:
        item["acceptedSuggestions"] = [{"id": s} for s in suggestion_ids]
    return item


def stored_text(app: Flask) -> str:
    """Every row of every table of the store, as text (SQLite or PostgreSQL alike)."""
    engine = state(app).store.engine
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        rows = [
            tuple(row)
            for table in tables.sorted_tables
            for row in connection.execute(select(table))
        ]
    return repr(rows)


def test_feedback_stores_only_what_the_card_offered(issued: Issued) -> None:
    suggestion = issued.ivig["suggestions"][0]["uuid"]
    response = issued.post(
        accepted(issued.ivig, suggestion, suggestion),
        overridden(issued.dysphagia, "swallow-assessed"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert assert_valid(response, "FeedbackResponse") == {"stored": 2}
    rows = {r["topic"]: r for r in state(issued.app).store.feedback_rows()}
    assert rows["ivig-start"]["accepted_suggestions"] == json.dumps([suggestion])
    assert rows["ivig-start"]["outcome_timestamp"] == datetime(2026, 3, 14, 21, 5, tzinfo=UTC)
    reason = rows["dysphagia-aspiration"]
    assert reason["override_reason_code"] == "swallow-assessed"
    assert reason["override_reason_display"] == "Swallow already assessed"  # the card's own
    assert reason["user_comment_present"] is True
    everything = stored_text(issued.app)
    assert "swallow-assessed" in everything  # the rows are there ...
    for text in (FREE_TEXT, "Jane Doe", "ward 4", "943 476"):
        assert text not in everything  # ... and no free text anywhere in the store


def _refusals(issued: Issued) -> list[tuple[str, dict[str, Any], str]]:
    """(case, item, the field named after ``feedback[i].``)."""
    ivig, dysphagia = issued.ivig, issued.dysphagia
    its_suggestion = ivig["suggestions"][0]["uuid"]
    other_cards_suggestion = dysphagia["suggestions"][0]["uuid"]
    no_code = {"reason": {"system": REASON_SYSTEM, "display": "Treated elsewhere"}}
    return [
        ("unknown card", {**accepted(ivig), "card": str(uuid.uuid4())}, "card"),
        ("free text as a card id", {**accepted(ivig), "card": FREE_TEXT}, "card"),
        ("made-up suggestion", accepted(ivig, "MRN 12345"), "acceptedSuggestions[0].id"),
        ("another card's suggestion", accepted(ivig, its_suggestion, other_cards_suggestion),
         "acceptedSuggestions[1].id"),
        ("made-up reason code", overridden(ivig, FREE_TEXT), "overrideReason.reason.code"),
        ("another card's reason", overridden(ivig, "swallow-assessed"),
         "overrideReason.reason.code"),
        ("another code system", overridden(ivig, "treated-elsewhere", system="urn:x"),
         "overrideReason.reason.system"),
        ("a reason without a code", {**overridden(ivig, "x"), "overrideReason": no_code},
         "overrideReason.reason.code"),
        ("a reason on an accepted card",
         {**overridden(ivig, "treated-elsewhere"), "outcome": "accepted"}, "overrideReason:"),
        ("suggestions of an overridden card",
         {**accepted(ivig, its_suggestion), "outcome": "overridden"}, "acceptedSuggestions:"),
    ]  # fmt: skip


def test_anything_the_card_did_not_offer_is_refused_naming_the_field(issued: Issued) -> None:
    for case, item, field in _refusals(issued):
        # the first item is fine: a refused item refuses the whole request
        response = issued.post(accepted(issued.dysphagia), item)
        payload = assert_error(response, 400, "invalid")
        diagnostics = payload["issue"][0]["diagnostics"]
        assert f"feedback[1].{field}" in diagnostics, (case, diagnostics)
        assert FREE_TEXT not in json.dumps(payload) and "MRN" not in json.dumps(payload), case
    assert state(issued.app).store.feedback_rows() == []


def test_a_repeat_replaces_the_cards_outcome(issued: Issued) -> None:
    assert issued.post(accepted(issued.ivig)).status_code == 200
    assert issued.post(overridden(issued.ivig, "treated-elsewhere")).status_code == 200
    for _ in range(3):  # the same card overridden again and again counts once
        assert issued.post(overridden(issued.ivig, "not-refractory")).status_code == 200
    rows = state(issued.app).store.feedback_rows()
    assert [(r["outcome"], r["override_reason_code"]) for r in rows] == [
        ("overridden", "not-refractory")
    ]
    summary = issued.app.test_client().get(FEEDBACK_URL + "/summary").get_json()
    assert summary["topics"] == [
        {"topic": "ivig-start", "accepted": 0, "overridden": 1,
         "overrideReasons": [{"code": "not-refractory", "count": 1,
                              "display": "Not refractory in my judgement"}]},
    ]  # fmt: skip


def test_retention_purges_issued_cards_and_feedback(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    clock = MovableClock(SCENARIO_NOW)
    app = make_app(clock=clock, database_url=database_url, retention_days=30)
    old = issue_seed_cards(app)
    assert old.post(accepted(old.ivig)).status_code == 200
    clock.now = SCENARIO_NOW + timedelta(days=31)
    issue_seed_cards(app)  # a later call: the store purges what is past the retention period
    store = state(app).store
    assert store.issued([old.ivig["uuid"], old.dysphagia["uuid"]]) == {}
    assert store.feedback_rows() == []
    late = old.post(overridden(old.dysphagia, "swallow-assessed"))
    assert "feedback[0].card" in assert_error(late, 400)["issue"][0]["diagnostics"]


def test_feedback_is_stored_and_survives_a_restart(make_app: Callable[..., Flask]) -> None:
    first = make_app(clock=MovableClock(SCENARIO_NOW))
    cards = issue_seed_cards(first)
    assert cards.post(overridden(cards.ivig, "treated-elsewhere")).status_code == 200
    state(first).store.close()
    restarted = make_app()  # same SQLite file, new app (a new process would do the same)
    rows = state(restarted).store.feedback_rows()
    assert [(r["card_uuid"], r["outcome"]) for r in rows] == [(cards.ivig["uuid"], "overridden")]
    assert rows[0]["service_id"] == "jdm-ivig"


def test_the_comment_text_is_never_written_to_disk(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(clock=MovableClock(SCENARIO_NOW))
    cards = issue_seed_cards(app)
    assert cards.post(overridden(cards.ivig, "treated-elsewhere")).status_code == 200
    state(app).store.close()
    stored = b"".join(p.read_bytes() for p in (tmp_path / "store").iterdir() if p.is_file())
    assert cards.ivig["uuid"].encode() in stored  # the row is there (SQLite file and WAL) ...
    assert b"Jane Doe" not in stored and b"ward 4" not in stored  # ... its comment is not


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
        (
            {
                "feedback": [
                    {"card": "c", "outcome": "overridden",
                     "outcomeTimestamp": "2026-03-10T09:45:00Z",
                     "overrideReason": {"reason": {"code": "x", "display": "x" * 20_000}}}
                ]
            },
            "feedback[0].overrideReason.reason.display",
        ),
    ],
)  # fmt: skip
def test_bad_feedback_is_400_naming_the_field(
    client: Any, body: dict[str, Any], field: str
) -> None:
    payload = assert_error(client.post(FEEDBACK_URL, json=body), 400, "invalid")
    assert field in payload["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"feedback": [{"card": "\\ud800", "outcome": "accepted", '
        b'"outcomeTimestamp": "2026-03-10T09:45:00Z"}]}',
        b'{"feedback": [{"card": "c", "outcome": "overridden", "overrideReason": '
        b'{"userComment": "x\\udfff"}, "outcomeTimestamp": "2026-03-10T09:45:00Z"}]}',
        b'{"\\udc00": 1, "feedback": []}',
    ],
)
def test_text_that_is_not_unicode_is_400_not_a_retry(client: Any, raw: bytes) -> None:
    """A lone surrogate escape parses to a str no store can write: 400, never 503 ("try
    again"), which a client would retry for ever."""
    response = client.post(FEEDBACK_URL, data=raw, content_type="application/json")
    assert "not Unicode" in assert_error(response, 400, "structure")["issue"][0]["diagnostics"]


def test_a_surrogate_pair_is_text(make_app: Callable[..., Flask]) -> None:
    app = make_app(clock=MovableClock(SCENARIO_NOW))
    cards = issue_seed_cards(app)
    item = json.dumps(overridden(cards.ivig, "treated-elsewhere")).replace(
        COMMENT, "\\ud83d\\ude00 fine"
    )
    response = app.test_client().post(
        FEEDBACK_URL, data='{"feedback": [' + item + "]}", content_type="application/json"
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def test_feedback_when_the_store_is_down_is_503_json(app: Flask) -> None:
    from sqlalchemy import create_engine

    state(app).store.engine = create_engine("sqlite:////proc/no-such-dir/x.sqlite3")
    response = app.test_client().post(
        FEEDBACK_URL,
        json={"feedback": [{"card": "c", "outcome": "accepted",
                            "outcomeTimestamp": "2026-03-10T09:45:00Z"}]},
    )  # fmt: skip
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
    assert {"card_feedback", "issued_cards", "issued_card_choices", "jwt_replay"} <= tables
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
