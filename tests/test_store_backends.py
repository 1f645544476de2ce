"""The store's contract, run against SQLite always and a real PostgreSQL server when installed.

Scale-out rests on this: gunicorn workers of one host share a SQLite file, several hosts share
PostgreSQL. Two `Store` objects on one database stand for two workers or two hosts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from postgres_server import PostgresServer

from cds_service.store.database import FeedbackRecord, IssuedCard, Store, open_store
from fhir_fixtures.clocks import SCENARIO_NOW as NOW


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'store.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture
def open_stores(database_url: str) -> Iterator[Callable[[], Store]]:
    opened: list[Store] = []

    def opener() -> Store:
        store = open_store(database_url)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


def feedback(card_uuid: str, outcome: str = "accepted") -> FeedbackRecord:
    return FeedbackRecord(
        card_uuid=card_uuid,
        outcome=outcome,
        accepted_suggestions=("s-1",) if outcome == "accepted" else (),
        override_reason_code=None if outcome == "accepted" else "patient-declined",
        override_reason_display=None if outcome == "accepted" else "Patient declined",
        user_comment_present=outcome != "accepted",
        outcome_timestamp=NOW - timedelta(minutes=5),
    )


def test_schema_creation_is_idempotent_and_the_store_answers_ping(
    open_stores: Callable[[], Store],
) -> None:
    first, second = open_stores(), open_stores()
    assert first.ping() and second.ping()


def test_feedback_is_linked_to_the_topic_of_the_issued_card(
    open_stores: Callable[[], Store],
) -> None:
    worker_a, worker_b = open_stores(), open_stores()
    worker_a.record_issued_cards([IssuedCard("card-1", "ivig-start")], "jdm-ivig", NOW)
    stored = worker_b.record_feedback(
        [feedback("card-1"), feedback("card-unknown", "overridden")], "jdm-ivig", NOW
    )
    assert stored == 2
    rows = worker_a.feedback_rows()
    assert [(r["card_uuid"], r["topic"], r["outcome"]) for r in rows] == [
        ("card-1", "ivig-start", "accepted"),
        ("card-unknown", None, "overridden"),
    ]
    assert rows[1]["override_reason_code"] == "patient-declined"
    assert rows[1]["user_comment_present"] is True
    # times come back as the same instants, timezone-aware, whatever the backend
    assert rows[0]["outcome_timestamp"] == NOW - timedelta(minutes=5)
    assert rows[0]["received_at"].utcoffset() is not None
    assert worker_b.issued_card_topic("card-1") == "ivig-start"
    assert worker_b.issued_card_topic("card-2") is None


def test_a_jti_is_accepted_once_across_workers_and_again_after_expiry(
    open_stores: Callable[[], Store],
) -> None:
    host_a, host_b = open_stores(), open_stores()
    expires = NOW + timedelta(minutes=5)
    assert host_a.remember_jti("jti-1", expires, NOW) is True
    assert host_b.remember_jti("jti-1", expires, NOW) is False
    assert host_a.remember_jti("jti-1", expires, NOW + timedelta(minutes=1)) is False
    # once expired the row is purged; an expired token is refused by the JWT check anyway
    assert host_b.remember_jti("jti-1", expires, NOW + timedelta(minutes=6)) is True


def test_racing_replays_let_exactly_one_through(open_stores: Callable[[], Store]) -> None:
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


def test_naive_datetimes_are_refused(open_stores: Callable[[], Store]) -> None:
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
