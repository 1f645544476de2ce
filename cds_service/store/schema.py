"""The store's tables, the length of every stored field, and the one upgrade of an older store.

Every text column carries a ``CHECK (length(column) <= n)``: SQLite does not enforce
``VARCHAR(n)``, so without it a 20 MB string would be stored there while PostgreSQL refused it.
The caps are the constants below; the code that writes a row keeps within them, the checks make
sure of it on every database.

Tables: ``issued_cards`` (each card uuid the service answered with, its service and topic),
``issued_card_choices`` (the override reasons and suggestion ids offered on each issued card:
feedback may name only these), ``card_feedback`` (one outcome per card), ``jwt_replay``.

An older store holds a table ``feedback``: several rows per card, and override reasons and
suggestion ids that were never checked against the card (free text could sit there). The upgrade
keeps the latest outcome of each card the service issued, without reason or suggestions, and
drops the rest with the table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    text,
)

CARD_UUID_CHARS = 64
SERVICE_ID_CHARS = 64
TOPIC_CHARS = 64
OUTCOME_CHARS = 16
CHOICE_KIND_CHARS = 16
SYSTEM_CHARS = 256
CODE_CHARS = 128  # an override reason's code or a suggestion's uuid
DISPLAY_CHARS = 512
ACCEPTED_SUGGESTIONS_CHARS = 4096  # a JSON list of suggestion uuids of one card
JTI_KEY_CHARS = 256

# a check constraint's name: ck_<table>_<column>_len (PostgreSQL names must be unique per table)
metadata = MetaData(
    naming_convention={"ix": "ix_%(column_0_label)s", "ck": "ck_%(table_name)s_%(constraint_name)s"}
)


def capped(name: str, chars: int, *, nullable: bool = False, **options: Any) -> Column[str]:
    """A text column of at most `chars` characters, on every database."""
    kind = Text() if chars > 1024 else String(chars)
    check = CheckConstraint(f"length({name}) <= {chars}", name=f"{name}_len")
    return Column(name, kind, check, nullable=nullable, **options)


issued_cards_table = Table(
    "issued_cards",
    metadata,
    capped("card_uuid", CARD_UUID_CHARS, primary_key=True),
    capped("service_id", SERVICE_ID_CHARS),
    capped("topic", TOPIC_CHARS, nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)
ISSUED_AT_INDEX = Index("ix_issued_cards_issued_at", issued_cards_table.c.issued_at)

issued_card_choices_table = Table(
    "issued_card_choices",
    metadata,
    capped("card_uuid", CARD_UUID_CHARS, primary_key=True),
    capped("kind", CHOICE_KIND_CHARS, primary_key=True),  # "reason" | "suggestion"
    capped("code", CODE_CHARS, primary_key=True),
    capped("system", SYSTEM_CHARS, nullable=True),
    capped("display", DISPLAY_CHARS, nullable=True),
)

card_feedback_table = Table(
    "card_feedback",
    metadata,
    capped("card_uuid", CARD_UUID_CHARS, primary_key=True),  # one outcome per card
    capped("service_id", SERVICE_ID_CHARS),
    capped("topic", TOPIC_CHARS, nullable=True),
    capped("outcome", OUTCOME_CHARS),
    capped("accepted_suggestions", ACCEPTED_SUGGESTIONS_CHARS),  # JSON list of suggestion ids
    capped("override_reason_code", CODE_CHARS, nullable=True),
    capped("override_reason_display", DISPLAY_CHARS, nullable=True),
    # only whether a comment was written: the comment itself may name the patient
    Column("user_comment_present", Boolean, nullable=False),
    Column("outcome_timestamp", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
)
# the summary groups by the first four along this index, which also holds the display: one
# scan of the index, no sort and no look-up of the table's rows
Index(
    "ix_card_feedback_summary",
    card_feedback_table.c.service_id,
    card_feedback_table.c.topic,
    card_feedback_table.c.outcome,
    card_feedback_table.c.override_reason_code,
    card_feedback_table.c.override_reason_display,
)

jwt_replay_table = Table(
    "jwt_replay",
    metadata,
    capped("jti", JTI_KEY_CHARS, primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

LEGACY_FEEDBACK_TABLE = "feedback"
_KEEP_LATEST_LINKED_OUTCOMES = text(
    """
    INSERT INTO card_feedback (card_uuid, service_id, topic, outcome, accepted_suggestions,
        override_reason_code, override_reason_display, user_comment_present, outcome_timestamp,
        received_at)
    SELECT f.card_uuid, f.service_id, i.topic, f.outcome, '[]', NULL, NULL,
        f.user_comment_present, f.outcome_timestamp, f.received_at
    FROM feedback f
    JOIN issued_cards i ON i.card_uuid = f.card_uuid AND i.service_id = f.service_id
    WHERE f.outcome IN ('accepted', 'overridden')
      AND f.id IN (SELECT max(id) FROM feedback GROUP BY card_uuid)
      AND f.card_uuid NOT IN (SELECT card_uuid FROM card_feedback)
    """
)


def create_and_upgrade(connection: Connection) -> None:
    """Create missing tables and indexes; upgrade an older store's feedback (module doc)."""
    metadata.create_all(connection, checkfirst=True)
    ISSUED_AT_INDEX.create(connection, checkfirst=True)  # issued_cards may predate the index
    if inspect(connection).has_table(LEGACY_FEEDBACK_TABLE):
        connection.execute(_KEEP_LATEST_LINKED_OUTCOMES)
        connection.execute(text(f"DROP TABLE {LEGACY_FEEDBACK_TABLE}"))
