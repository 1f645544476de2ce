"""The one store of the service (SQLAlchemy Core): card feedback, issued cards, JWT replay cache.

Chosen by ``settings.database_url``: SQLite by default (file and parent folders created, WAL mode
and a busy timeout so several gunicorn workers can share it), PostgreSQL via
``postgresql+psycopg://``. Nothing here holds PHI: no patient ids, names or free-text comments.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

SQLITE_BUSY_TIMEOUT_MS = 5000
SCHEMA_ATTEMPTS = 5  # racing creators on SQLite: the loser finds the tables next time
SCHEMA_LOCK_KEY = 0x6A646D636473  # "jdmcds": the advisory lock serialising schema creation

metadata = MetaData()

feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("card_uuid", String(128), nullable=False, index=True),
    Column("service_id", String(64), nullable=False),
    Column("topic", String(64), nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("accepted_suggestions", Text, nullable=False),  # JSON list of suggestion ids
    Column("override_reason_code", String(128), nullable=True),
    Column("override_reason_display", String(512), nullable=True),
    # only whether a comment was written: the comment itself may name the patient
    Column("user_comment_present", Boolean, nullable=False),
    Column("outcome_timestamp", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

issued_cards_table = Table(
    "issued_cards",
    metadata,
    Column("card_uuid", String(128), primary_key=True),
    Column("service_id", String(64), nullable=False),
    Column("topic", String(64), nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

jwt_replay_table = Table(
    "jwt_replay",
    metadata,
    Column("jti", String(256), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)


@dataclass(frozen=True)
class FeedbackRecord:
    card_uuid: str
    outcome: str
    accepted_suggestions: tuple[str, ...]
    override_reason_code: str | None
    override_reason_display: str | None
    user_comment_present: bool
    outcome_timestamp: datetime


@dataclass(frozen=True)
class IssuedCard:
    card_uuid: str
    topic: str | None


class Store:
    """Open with :func:`open_store`; every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_schema(self) -> None:
        """Create the missing tables; safe when several workers or hosts start at once.

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
                    metadata.create_all(connection, checkfirst=True)
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
        if not cards:
            return
        rows = [
            {
                "card_uuid": card.card_uuid,
                "service_id": service_id,
                "topic": card.topic,
                "issued_at": _utc(issued_at),
            }
            for card in cards
        ]
        with self.engine.begin() as connection:
            connection.execute(insert(issued_cards_table), rows)

    def record_feedback(
        self, items: Iterable[FeedbackRecord], service_id: str, received_at: datetime
    ) -> int:
        """Store each item, linking it to the topic of the card it answers when that is known."""
        items = list(items)
        with self.engine.begin() as connection:
            uuids = {item.card_uuid for item in items}
            topics = dict(
                connection.execute(
                    select(issued_cards_table.c.card_uuid, issued_cards_table.c.topic).where(
                        issued_cards_table.c.card_uuid.in_(uuids)
                    )
                ).all()
            )
            rows = [
                _feedback_row(item, service_id, topics.get(item.card_uuid), received_at)
                for item in items
            ]
            if rows:
                connection.execute(insert(feedback_table), rows)
        return len(rows)

    def feedback_rows(self) -> list[dict[str, Any]]:
        """All feedback rows, oldest first (for the summary endpoint and tests)."""
        with self.engine.connect() as connection:
            result = connection.execute(select(feedback_table).order_by(feedback_table.c.id))
            return [_aware_row(dict(row._mapping)) for row in result]

    def feedback_counts(self, service_id: str) -> list[dict[str, Any]]:
        """Feedback counted per (topic, outcome, override reason) for one service; no PHI.

        A row whose card was never recorded as issued has topic None.
        """
        columns = (
            feedback_table.c.topic,
            feedback_table.c.outcome,
            feedback_table.c.override_reason_code,
            feedback_table.c.override_reason_display,
        )
        query = (
            select(*columns, func.count().label("count"))
            .where(feedback_table.c.service_id == service_id)
            .group_by(*columns)
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def issued_card_topic(self, card_uuid: str) -> str | None:
        with self.engine.connect() as connection:
            topic = connection.execute(
                select(issued_cards_table.c.topic).where(
                    issued_cards_table.c.card_uuid == card_uuid
                )
            ).scalar_one_or_none()
        return topic if isinstance(topic, str) else None

    def remember_jti(self, jti: str, expires_at: datetime, now: datetime) -> bool:
        """True when ``jti`` is new (and is now remembered); False when it was seen before.

        Atomic under concurrency: the primary key decides, so of two racing calls one wins.
        Rows past their expiry are purged first (a token cannot be replayed once expired anyway).
        """
        with self.engine.begin() as connection:
            connection.execute(
                delete(jwt_replay_table).where(jwt_replay_table.c.expires_at < _utc(now))
            )
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(jwt_replay_table), {"jti": jti, "expires_at": _utc(expires_at)}
                )
        except IntegrityError:
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


def _feedback_row(
    item: FeedbackRecord, service_id: str, topic: str | None, received_at: datetime
) -> dict[str, Any]:
    return {
        "card_uuid": item.card_uuid,
        "service_id": service_id,
        "topic": topic,
        "outcome": item.outcome,
        "accepted_suggestions": json.dumps(list(item.accepted_suggestions)),
        "override_reason_code": item.override_reason_code,
        "override_reason_display": item.override_reason_display,
        "user_comment_present": item.user_comment_present,
        "outcome_timestamp": _utc(item.outcome_timestamp),
        "received_at": _utc(received_at),
    }


def _utc(moment: datetime) -> datetime:
    """Stored times are UTC: SQLite keeps no offset, so mixed zones would compare wrongly."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return moment.astimezone(UTC)


def _aware_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.replace(tzinfo=UTC)
        if isinstance(value, datetime) and value.tzinfo is None
        else value
        for key, value in row.items()
    }


def open_store(database_url: str) -> Store:
    """Open the store at ``database_url``, creating the file and schema when missing."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = _sqlite_engine(database_url)
    else:
        engine = create_engine(database_url, pool_pre_ping=True)
    store = Store(engine)
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
