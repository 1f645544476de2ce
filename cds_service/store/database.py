"""The one store of the service (SQLAlchemy Core): issued cards, card feedback, JWT replay cache.

Chosen by ``settings.database_url``: SQLite by default (file and parent folders created, WAL mode
and a busy timeout so several gunicorn workers can share it), PostgreSQL via
``postgresql+psycopg://``. Nothing here holds PHI: no patient ids, names or free text; feedback
rows hold only ids, codes and displays the service itself issued (:mod:`.schema` caps every
field). With a retention period, rows older than it are deleted (at most hourly, by each
process, as it writes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

from cds_service.store.records import (
    REASON,
    SUGGESTION,
    FeedbackOutcome,
    IssuedCard,
    IssuedRecord,
    OfferedReason,
    choice_rows,
    feedback_row,
    utc,
)
from cds_service.store.schema import (
    card_feedback_table,
    create_and_upgrade,
    issued_card_choices_table,
    issued_cards_table,
    jwt_replay_table,
)
from cds_service.store.summary import TopicSummary, topic_summaries

SQLITE_BUSY_TIMEOUT_MS = 5000
SCHEMA_ATTEMPTS = 5  # racing creators on SQLite: the loser finds the tables next time
SCHEMA_LOCK_KEY = 0x6A646D636473  # "jdmcds": the advisory lock serialising schema creation
PURGE_EVERY = timedelta(hours=1)


class StoreUnavailable(Exception):
    """The database did not answer or refused a statement; the caller may try again later."""


@contextmanager
def _unavailable_on_failure() -> Iterator[None]:
    try:
        yield
    except SQLAlchemyError as failed:
        raise StoreUnavailable(type(failed).__name__) from failed


class Store:
    """Open with :func:`open_store`; every method is one short transaction."""

    def __init__(self, engine: Engine, retention: timedelta | None = None) -> None:
        self.engine = engine
        self._retention = retention
        self._purge_lock = threading.Lock()
        self._next_purge_at: datetime | None = None

    def create_schema(self) -> None:
        """Create the missing tables (and upgrade an older store, :mod:`.schema`); safe when
        several workers or hosts start at once.

        PostgreSQL: one creator at a time (a transaction-scoped advisory lock). SQLite has no
        such lock: a creator that loses the race finds the tables on its next attempt.
        """
        for attempt in range(SCHEMA_ATTEMPTS):
            try:
                with self.engine.begin() as connection:
                    if connection.dialect.name == "postgresql":
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY}
                        )
                    create_and_upgrade(connection)
                return
            except (OperationalError, IntegrityError, ProgrammingError):
                if attempt == SCHEMA_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # any driver error means "not ready"
            return False
        return True

    def record_issued_cards(
        self, cards: Sequence[IssuedCard], service_id: str, issued_at: datetime
    ) -> None:
        """Remember each card with what feedback on it may name (its reasons, suggestions)."""
        self.purge_if_due(issued_at)
        if not cards:
            return
        rows = [
            {"card_uuid": c.card_uuid, "service_id": service_id, "topic": c.topic,
             "issued_at": utc(issued_at)}
            for c in cards
        ]  # fmt: skip
        choices = [choice for card in cards for choice in choice_rows(card)]
        with self.engine.begin() as connection:
            connection.execute(insert(issued_cards_table), rows)
            if choices:
                connection.execute(insert(issued_card_choices_table), choices)

    def issued(self, card_uuids: Iterable[str]) -> dict[str, IssuedRecord]:
        """The issued cards among `card_uuids`, with their choices (unknown uuids are absent);
        StoreUnavailable when the database fails."""
        wanted = sorted(set(card_uuids))
        cards, choices = issued_cards_table, issued_card_choices_table
        with _unavailable_on_failure(), self.engine.connect() as connection:
            found = connection.execute(
                select(cards.c.card_uuid, cards.c.service_id, cards.c.topic).where(
                    cards.c.card_uuid.in_(wanted)
                )
            ).all()
            offered = connection.execute(
                select(choices).where(choices.c.card_uuid.in_([row[0] for row in found]))
            ).all()
        reasons: dict[str, dict[str, OfferedReason]] = {}
        suggestions: dict[str, set[str]] = {}
        for choice in offered:
            if choice.kind == REASON:
                reason = OfferedReason(choice.system, choice.code, choice.display)
                reasons.setdefault(choice.card_uuid, {})[choice.code] = reason
            elif choice.kind == SUGGESTION:
                suggestions.setdefault(choice.card_uuid, set()).add(choice.code)
        return {
            uuid: IssuedRecord(service_id, topic, reasons.get(uuid, {}),
                               frozenset(suggestions.get(uuid, ())))
            for uuid, service_id, topic in found
        }  # fmt: skip

    def record_feedback(self, outcomes: Sequence[FeedbackOutcome], received_at: datetime) -> int:
        """Store each card's outcome, replacing an earlier one of the same card; StoreUnavailable
        when the database fails."""
        latest = {outcome.card_uuid: outcome for outcome in outcomes}  # a repeat replaces
        rows = [feedback_row(outcome, received_at) for outcome in latest.values()]
        with _unavailable_on_failure():
            self.purge_if_due(received_at)
            if rows:
                with self.engine.begin() as connection:
                    _upsert_feedback(connection, rows)
        return len(rows)

    def feedback_rows(self) -> list[dict[str, Any]]:
        """All feedback rows, oldest first (for tests and operators)."""
        table = card_feedback_table
        with self.engine.connect() as connection:
            result = connection.execute(
                select(table).order_by(table.c.received_at, table.c.card_uuid)
            )
            return [_aware_row(dict(row._mapping)) for row in result]

    def feedback_summary(self, service_id: str) -> list[TopicSummary]:
        """Outcomes and override reasons per topic of one service, counted (and the reasons
        written as JSON) by the database: :mod:`.summary`. No PHI."""
        with self.engine.connect() as connection:
            return topic_summaries(connection, service_id)

    def issued_card_topic(self, card_uuid: str) -> str | None:
        with self.engine.connect() as connection:
            topic = connection.execute(
                select(issued_cards_table.c.topic).where(
                    issued_cards_table.c.card_uuid == card_uuid
                )
            ).scalar_one_or_none()
        return topic if isinstance(topic, str) else None

    def purge_if_due(self, now: datetime) -> None:
        """With a retention period: delete what is older than it, at most every hour."""
        if self._retention is None:
            return
        with self._purge_lock:
            if self._next_purge_at is not None and now < self._next_purge_at:
                return
            self._next_purge_at = now + PURGE_EVERY
        self.purge(now - self._retention)

    def purge(self, before: datetime) -> None:
        """Delete issued cards (with their choices) issued, and feedback received, before."""
        cutoff = utc(before)
        cards, choices, outcomes = (
            issued_cards_table,
            issued_card_choices_table,
            card_feedback_table,
        )
        old_cards = select(cards.c.card_uuid).where(cards.c.issued_at < cutoff)
        with self.engine.begin() as connection:
            connection.execute(delete(choices).where(choices.c.card_uuid.in_(old_cards)))
            connection.execute(delete(cards).where(cards.c.issued_at < cutoff))
            connection.execute(delete(outcomes).where(outcomes.c.received_at < cutoff))

    def remember_jti(self, jti: str, expires_at: datetime, now: datetime) -> bool:
        """True when ``jti`` is new (and is now remembered); False when it was seen before.

        Atomic under concurrency: the primary key decides, so of two racing calls one wins.
        Rows past their expiry are purged first (a token cannot be replayed once expired anyway).
        """
        with self.engine.begin() as connection:
            connection.execute(
                delete(jwt_replay_table).where(jwt_replay_table.c.expires_at < utc(now))
            )
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(jwt_replay_table), {"jti": jti, "expires_at": utc(expires_at)}
                )
        except IntegrityError:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


def _upsert_feedback(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert, or replace the row of the same card (one outcome per card)."""
    table = card_feedback_table
    kept = [column.name for column in table.columns if not column.primary_key]
    if connection.dialect.name == "postgresql":
        on_pg = postgresql.insert(table).values(rows)
        replaced = {name: on_pg.excluded[name] for name in kept}
        connection.execute(on_pg.on_conflict_do_update(index_elements=["card_uuid"], set_=replaced))
    elif connection.dialect.name == "sqlite":
        on_lite = sqlite.insert(table).values(rows)
        replaced = {name: on_lite.excluded[name] for name in kept}
        connection.execute(
            on_lite.on_conflict_do_update(index_elements=["card_uuid"], set_=replaced)
        )
    else:  # another database: delete and insert, in this one transaction
        uuids = [row["card_uuid"] for row in rows]
        connection.execute(delete(table).where(table.c.card_uuid.in_(uuids)))
        connection.execute(insert(table), rows)


def _aware_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.replace(tzinfo=UTC)
        if isinstance(value, datetime) and value.tzinfo is None
        else value
        for key, value in row.items()
    }


def open_store(database_url: str, retention_days: int = 0) -> Store:
    """Open the store at ``database_url``, creating the file and schema when missing.

    ``retention_days`` > 0: issued cards and feedback older than that many days are deleted.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = _sqlite_engine(database_url)
    else:
        engine = create_engine(database_url, pool_pre_ping=True)
    store = Store(engine, timedelta(days=retention_days) if retention_days > 0 else None)
    store.create_schema()
    return store


def _sqlite_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # WAL + NORMAL: no fsync per commit (each hook call commits up to three times: the
        # jti, its purge, the issued cards), still safe if the process dies; only a power
        # loss may drop the last commits. fsync stalls were the slowest part of a call.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine
