"""The feedback summary, counted and written as JSON by the database itself.

Two statements over the covering index ``ix_card_feedback_summary`` (service, topic, outcome,
reason code, display): outcomes per topic, and per topic the override reasons as one JSON
array, most cards first, then by code. The database counts and sorts (in C, no per-row
objects in Python), so 40,000 distinct reasons cost about 100 ms of CPU, not the minutes of
the first version, which looked each row's reason up in a list. SQLite writes each reason's
JSON object with its JSON functions, in order, and they are joined here without parsing;
PostgreSQL writes the whole array with ``json_agg``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, func, select, text

from cds_service.store.schema import card_feedback_table


@dataclass(frozen=True)
class TopicSummary:
    """One topic's outcomes; ``reasons_json`` is a JSON array of ``{"code", "display"?,
    "count"}`` objects, most cards first, then by code (``"[]"`` when none)."""

    topic: str | None
    accepted: int
    overridden: int
    reasons_json: str


# the reasons given on overridden cards of each topic, counted per code
_COUNTED = """
    SELECT topic, override_reason_code AS code, max(override_reason_display) AS display,
           count(*) AS cards
    FROM card_feedback
    WHERE service_id = :service AND outcome = 'overridden'
      AND override_reason_code IS NOT NULL AND topic IS NOT NULL
    GROUP BY topic, override_reason_code
"""
# SQLite before 3.44 cannot order inside an aggregate, and its GROUP BY may re-sort a subquery's
# rows: it writes each reason as JSON, in order, and they are joined here (no parsing)
_REASONS_SQLITE = text(
    f"""
    SELECT topic, CASE WHEN display IS NULL
               THEN json_object('code', code, 'count', cards)
               ELSE json_object('code', code, 'display', display, 'count', cards) END
    FROM ({_COUNTED}) ORDER BY topic, cards DESC, code
    """  # noqa: S608 (built from constants; the service id is a bound parameter)
)
_REASONS_POSTGRESQL = text(
    f"""
    SELECT topic, json_agg(json_strip_nulls(json_build_object(
               'code', code, 'display', display, 'count', cards))
           ORDER BY cards DESC, code COLLATE "C")::text
    FROM ({_COUNTED}) AS counted GROUP BY topic
    """  # noqa: S608 (built from constants; the service id is a bound parameter)
)


def topic_summaries(connection: Connection, service_id: str) -> list[TopicSummary]:
    """Each topic of `service_id` that has feedback (topic None: cards issued without one)."""
    table = card_feedback_table
    outcomes = connection.execute(
        select(table.c.topic, table.c.outcome, func.count())
        .where(table.c.service_id == service_id)
        .group_by(table.c.topic, table.c.outcome)
    ).all()
    reasons = _reasons_by_topic(connection, service_id)
    counts: dict[str | None, dict[str, int]] = {}
    for topic, outcome, cards in outcomes:
        counts.setdefault(topic, {})[outcome] = cards
    return [
        TopicSummary(topic, given.get("accepted", 0), given.get("overridden", 0),
                     reasons.get(topic, "[]"))
        for topic, given in counts.items()
    ]  # fmt: skip


def _reasons_by_topic(connection: Connection, service_id: str) -> Mapping[str | None, str]:
    """The store runs on SQLite or PostgreSQL (database.py): one statement for each."""
    parameters = {"service": service_id}
    if connection.dialect.name == "postgresql":
        return {
            topic: reasons for topic, reasons in connection.execute(_REASONS_POSTGRESQL, parameters)
        }
    written: dict[str | None, list[str]] = {}
    for topic, reason in connection.execute(_REASONS_SQLITE, parameters):
        written.setdefault(topic, []).append(reason)
    return {topic: f"[{', '.join(reasons)}]" for topic, reasons in written.items()}
