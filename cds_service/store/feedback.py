"""Card feedback (CDS Hooks ``/feedback``): validated items -> PHI-free store rows.

The free-text ``userComment`` is never stored (it can name the patient); only whether one was
written. Each item is linked to its card's topic through the ``issued_cards`` record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from cds_service.errors import SchemaViolationError
from cds_service.store.database import FeedbackRecord

TOPIC_SYSTEM = "https://jdm-cds.example.org/fhir/CodeSystem/card-topic"


def feedback_records(body: Mapping[str, Any]) -> list[FeedbackRecord]:
    """Turn a schema-valid feedback body into records; bad timestamps name their item."""
    return [_record(index, item) for index, item in enumerate(body["feedback"])]


def _record(index: int, item: Mapping[str, Any]) -> FeedbackRecord:
    reason = (item.get("overrideReason") or {}).get("reason") or {}
    comment = (item.get("overrideReason") or {}).get("userComment")
    return FeedbackRecord(
        card_uuid=item["card"],
        outcome=item["outcome"],
        accepted_suggestions=tuple(s["id"] for s in item.get("acceptedSuggestions", ())),
        override_reason_code=reason.get("code"),
        override_reason_display=reason.get("display"),
        user_comment_present=isinstance(comment, str) and bool(comment.strip()),
        outcome_timestamp=_instant(index, item["outcomeTimestamp"]),
    )


def _instant(index: int, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SchemaViolationError(
            f"feedback[{index}].outcomeTimestamp: not a valid instant"
        ) from exc
    if moment.tzinfo is None:  # the schema's pattern demands an offset; belt and braces
        raise SchemaViolationError(f"feedback[{index}].outcomeTimestamp: needs a time zone")
    try:
        moment.astimezone(UTC)  # 0001-01-01T00:00+01:00 is before the first UTC instant
    except OverflowError as exc:
        raise SchemaViolationError(
            f"feedback[{index}].outcomeTimestamp: outside the range of dates"
        ) from exc
    return moment


def card_topic(card: Mapping[str, Any]) -> str | None:
    """The topic code of a card (``source.topic`` in the card-topic code system), if any."""
    topic = (card.get("source") or {}).get("topic") or {}
    if topic.get("system") == TOPIC_SYSTEM and isinstance(topic.get("code"), str):
        code: str = topic["code"]
        return code
    return None


def issued_topics(cards: Sequence[Mapping[str, Any]]) -> list[tuple[str, str | None]]:
    """(uuid, topic) of each card that can get feedback (cards without a uuid cannot)."""
    return [(card["uuid"], card_topic(card)) for card in cards if isinstance(card.get("uuid"), str)]
