"""The store's contract, run against SQLite always and a real PostgreSQL server when installed.

Scale-out rests on this: gunicorn workers of one host share a SQLite file, several hosts share
PostgreSQL. Two `Store` objects on one database stand for two workers or two hosts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text, update
from sqlalchemy.exc import DataError, IntegrityError

from cds_service.store import schema
from cds_service.store.database import Store, open_store
from cds_service.store.records import FeedbackOutcome, IssuedCard, IssuedRecord, OfferedReason
from fhir_fixtures.clocks import SCENARIO_NOW as NOW


@pytest.fixture
def open_stores(database_url: str) -> Iterator[Callable[..., Store]]:
    opened: list[Store] = []

    def opener(retention_days: int = 0) -> Store:
        store = open_store(database_url, retention_days)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


REASON = OfferedReason("https://jdm-cds.example.org/override", "patient-declined", "Declined")


def issued(card_uuid: str, topic: str | None = "ivig-start") -> IssuedCard:
    return IssuedCard(card_uuid, topic, reasons=(REASON,), suggestion_ids=("s-1", "s-2"))


def outcome(
    card_uuid: str, kind: str = "accepted", topic: str | None = "ivig-start"
) -> FeedbackOutcome:
    overridden = kind == "overridden"
    return FeedbackOutcome(
        card_uuid=card_uuid,
        service_id="jdm-ivig",
        topic=topic,
        outcome=kind,
        accepted_suggestions=() if overridden else ("s-1",),
        override_reason_code=REASON.code if overridden else None,
        override_reason_display=REASON.display if overridden else None,
        user_comment_present=overridden,
        outcome_timestamp=NOW - timedelta(minutes=5),
    )


def test_schema_creation_is_idempotent_and_the_store_answers_ping(
    open_stores: Callable[..., Store],
) -> None:
    first, second = open_stores(), open_stores()
    assert first.ping() and second.ping()


def test_an_issued_card_keeps_what_feedback_on_it_may_name(
    open_stores: Callable[..., Store],
) -> None:
    worker_a, worker_b = open_stores(), open_stores()
    worker_a.record_issued_cards([issued("card-1"), issued("card-2", None)], "jdm-ivig", NOW)
    found = worker_b.issued(["card-1", "card-2", "card-never"])
    assert set(found) == {"card-1", "card-2"}
    assert found["card-1"] == IssuedRecord(
        "jdm-ivig", "ivig-start", {REASON.code: REASON}, frozenset({"s-1", "s-2"})
    )
    assert found["card-2"].topic is None
    assert worker_b.issued_card_topic("card-1") == "ivig-start"
    assert worker_b.issued_card_topic("card-never") is None


def test_one_outcome_per_card_a_repeat_replaces(open_stores: Callable[..., Store]) -> None:
    worker_a, worker_b = open_stores(), open_stores()
    worker_a.record_issued_cards([issued("card-1"), issued("card-2")], "jdm-ivig", NOW)
    assert worker_a.record_feedback([outcome("card-1"), outcome("card-2")], NOW) == 2
    later = NOW + timedelta(minutes=1)
    # the same card again, from another worker, and twice within one request: the last counts
    assert (
        worker_b.record_feedback(
            [outcome("card-1", "accepted"), outcome("card-1", "overridden")], later
        )
        == 1
    )
    rows = worker_a.feedback_rows()
    assert [(r["card_uuid"], r["outcome"]) for r in rows] == [
        ("card-2", "accepted"),
        ("card-1", "overridden"),
    ]
    assert rows[1]["override_reason_code"] == "patient-declined"
    assert rows[1]["accepted_suggestions"] == "[]"
    assert rows[1]["received_at"] == later
    # times come back as the same instants, timezone-aware, whatever the backend
    assert rows[0]["outcome_timestamp"] == NOW - timedelta(minutes=5)
    assert rows[0]["received_at"].utcoffset() is not None
    [summary] = worker_b.feedback_summary("jdm-ivig")
    assert (summary.topic, summary.accepted, summary.overridden) == ("ivig-start", 1, 1)
    assert json.loads(summary.reasons_json) == [
        {"code": "patient-declined", "display": "Declined", "count": 1}
    ]


def test_the_summary_is_counted_by_the_database_most_cards_first_then_by_code(
    open_stores: Callable[..., Store],
) -> None:
    reasons = [OfferedReason("urn:r", code, code.upper()) for code in ("b", "a", "c", "d")]
    cards = [IssuedCard(f"card-{n}", "ivig-start", reasons=tuple(reasons)) for n in range(6)]
    untopical = IssuedCard("card-no-topic", None, reasons=tuple(reasons))
    store = open_stores()
    store.record_issued_cards([*cards, untopical], "jdm-ivig", NOW)
    given = ["c", "b", "c", "a", None, "d"]  # c twice, a, b, d once, one card accepted
    outcomes = [
        replace(outcome(card.card_uuid, "overridden"), override_reason_code=code,
                override_reason_display=None if code == "d" else code.upper())
        if code else outcome(card.card_uuid)
        for card, code in zip(cards, given, strict=True)
    ]  # fmt: skip
    store.record_feedback([*outcomes, outcome("card-no-topic", "overridden", None)], NOW)
    summaries = {s.topic: s for s in store.feedback_summary("jdm-ivig")}
    assert set(summaries) == {"ivig-start", None}
    ivig = summaries["ivig-start"]
    assert (ivig.accepted, ivig.overridden) == (1, 5)
    assert json.loads(ivig.reasons_json) == [
        {"code": "c", "display": "C", "count": 2},
        {"code": "a", "display": "A", "count": 1},
        {"code": "b", "display": "B", "count": 1},
        {"code": "d", "count": 1},  # no display stored: none shown
    ]
    untopical_summary = summaries[None]
    assert (untopical_summary.overridden, untopical_summary.reasons_json) == (1, "[]")
    assert store.feedback_summary("another-service") == []


@pytest.mark.parametrize(
    ("table", "column", "chars"),
    [
        ("card_feedback", "override_reason_display", schema.DISPLAY_CHARS),
        ("card_feedback", "override_reason_code", schema.CODE_CHARS),
        ("card_feedback", "accepted_suggestions", schema.ACCEPTED_SUGGESTIONS_CHARS),
        ("issued_card_choices", "display", schema.DISPLAY_CHARS),
        ("issued_cards", "topic", schema.TOPIC_CHARS),
    ],
)
def test_every_database_refuses_a_field_past_its_cap(
    open_stores: Callable[..., Store], table: str, column: str, chars: int
) -> None:
    """SQLite stores any length in a VARCHAR(n): its CHECK constraint refuses it there
    (IntegrityError); PostgreSQL refuses it by the column's type already (DataError)."""
    store = open_stores()
    store.record_issued_cards([issued("card-1")], "jdm-ivig", NOW)
    store.record_feedback([outcome("card-1", "overridden")], NOW)
    target = schema.metadata.tables[table]
    with store.engine.begin() as connection:
        connection.execute(update(target).values({column: "x" * chars}))  # at the cap: fine
    with pytest.raises((IntegrityError, DataError)), store.engine.begin() as connection:
        connection.execute(update(target).values({column: "x" * (chars + 1)}))


def test_retention_purges_old_cards_choices_and_feedback(
    open_stores: Callable[..., Store],
) -> None:
    store = open_stores(retention_days=30)
    store.record_issued_cards([issued("old-card")], "jdm-ivig", NOW)
    store.record_feedback([outcome("old-card")], NOW + timedelta(days=1))
    month_later = NOW + timedelta(days=31)
    store.record_issued_cards([issued("new-card")], "jdm-ivig", month_later)  # purges on write
    assert set(store.issued(["old-card", "new-card"])) == {"new-card"}
    assert [r["card_uuid"] for r in store.feedback_rows()] == ["old-card"]  # 30 days old
    store.record_feedback([outcome("new-card")], month_later + timedelta(days=2))
    assert [r["card_uuid"] for r in store.feedback_rows()] == ["new-card"]
    with store.engine.connect() as connection:
        choices = connection.execute(select(schema.issued_card_choices_table.c.card_uuid)).all()
    assert {row[0] for row in choices} == {"new-card"}


def test_without_retention_nothing_is_purged(open_stores: Callable[..., Store]) -> None:
    store = open_stores(retention_days=0)
    store.record_issued_cards([issued("old-card")], "jdm-ivig", NOW)
    store.record_issued_cards([issued("new-card")], "jdm-ivig", NOW + timedelta(days=4000))
    assert set(store.issued(["old-card", "new-card"])) == {"old-card", "new-card"}


def test_an_older_store_keeps_each_issued_cards_latest_outcome_and_nothing_unchecked(
    database_url: str,
) -> None:
    """The table ``feedback`` of earlier versions held several rows per card, reasons and
    suggestion ids never checked (free text could sit there) and cards never issued."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for statement in LEGACY_SCHEMA:
            connection.execute(text(statement))
        connection.execute(text(LEGACY_ROWS))
    engine.dispose()
    store = open_store(database_url)
    try:
        rows = store.feedback_rows()
        assert [(r["card_uuid"], r["outcome"], r["topic"]) for r in rows] == [
            ("card-1", "overridden", "ivig-start")
        ]
        assert rows[0]["override_reason_code"] is None and rows[0]["accepted_suggestions"] == "[]"
        assert not inspect(store.engine).has_table("feedback")
        dumped = repr([dict(r) for r in rows])
        assert "Jane" not in dumped and "ward 4" not in dumped
        open_store(database_url).close()  # a second start finds nothing left to upgrade
    finally:
        store.close()


LEGACY_SCHEMA = [
    "CREATE TABLE issued_cards (card_uuid VARCHAR(128) PRIMARY KEY, service_id VARCHAR(64) NOT "
    "NULL, topic VARCHAR(64), issued_at TIMESTAMP WITH TIME ZONE NOT NULL)",
    "CREATE TABLE feedback (id INTEGER PRIMARY KEY, card_uuid VARCHAR(128) NOT NULL, service_id "
    "VARCHAR(64) NOT NULL, topic VARCHAR(64), outcome VARCHAR(16) NOT NULL, accepted_suggestions "
    "TEXT NOT NULL, override_reason_code VARCHAR(128), override_reason_display VARCHAR(512), "
    "user_comment_present BOOLEAN NOT NULL, outcome_timestamp TIMESTAMP WITH TIME ZONE NOT NULL, "
    "received_at TIMESTAMP WITH TIME ZONE NOT NULL)",
    "CREATE INDEX ix_feedback_card_uuid ON feedback (card_uuid)",
    "INSERT INTO issued_cards VALUES ('card-1', 'jdm-ivig', 'ivig-start', '2026-03-15 10:00:00')",
]
LEGACY_ROWS = (
    "INSERT INTO feedback VALUES "
    "(1, 'card-1', 'jdm-ivig', 'ivig-start', 'accepted', '[\"s-1\"]', NULL, NULL, FALSE, "
    "'2026-03-15 10:01:00', '2026-03-15 10:01:00'), "
    "(2, 'card-1', 'jdm-ivig', 'ivig-start', 'overridden', '[]', 'Jane Doe said no', "
    "'seen on ward 4', TRUE, '2026-03-15 10:02:00', '2026-03-15 10:02:00'), "
    "(3, 'never-issued', 'jdm-ivig', NULL, 'accepted', '[\"MRN 12345\"]', NULL, NULL, FALSE, "
    "'2026-03-15 10:03:00', '2026-03-15 10:03:00')"
)


def test_a_jti_is_accepted_once_across_workers_and_again_after_expiry(
    open_stores: Callable[..., Store],
) -> None:
    host_a, host_b = open_stores(), open_stores()
    expires = NOW + timedelta(minutes=5)
    assert host_a.remember_jti("jti-1", expires, NOW) is True
    assert host_b.remember_jti("jti-1", expires, NOW) is False
    assert host_a.remember_jti("jti-1", expires, NOW + timedelta(minutes=1)) is False
    # once expired the row is purged; an expired token is refused by the JWT check anyway
    assert host_b.remember_jti("jti-1", expires, NOW + timedelta(minutes=6)) is True


def test_racing_replays_let_exactly_one_through(open_stores: Callable[..., Store]) -> None:
    stores = [open_stores() for _ in range(4)]
    barrier = threading.Barrier(8)
    results: list[bool] = []
    lock = threading.Lock()

    def attempt(store: Store) -> None:
        barrier.wait(timeout=10)
        outcome = store.remember_jti("raced-jti", NOW + timedelta(minutes=5), NOW)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(stores[i % 4],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * 7 + [True]


def test_naive_datetimes_are_refused(open_stores: Callable[..., Store]) -> None:
    store = open_stores()
    with pytest.raises(ValueError, match="naive"):
        store.remember_jti("jti-naive", datetime(2026, 3, 15, 10, 0), NOW)


def test_replicas_starting_together_create_the_schema_once(database_url: str) -> None:
    """Two hosts (or gunicorn workers) starting at once on a new database must both come up."""
    starters = 6
    barrier = threading.Barrier(starters)
    opened: list[Store] = []
    failures: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            opened.append(open_store(database_url))
        except BaseException as exc:  # any failure to start counts: reported below by type
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert [type(failure).__name__ for failure in failures] == []
        assert len(opened) == starters and all(store.ping() for store in opened)
    finally:
        for store in opened:
            store.close()
