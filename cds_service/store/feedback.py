"""Card feedback (CDS Hooks ``/feedback``): each item checked against the card it answers.

A feedback item may only name what the service issued: the card's uuid (a card of this service,
still within the retention period), suggestion ids of that card, an override reason offered on
that card (``overrideReason.reason``: its ``code``, and its ``system`` when sent). Anything else
is refused (400, naming the field and never echoing the value), so nothing a client makes up,
and no free text, reaches the store. The stored display of a reason is the card's own, not the
client's. ``userComment`` is never stored (it can name the patient): only whether one was written.
One outcome per card: the card was issued to the one user of one hook call, and a repeat
replaces the earlier outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from cds_service.errors import SchemaViolationError
from cds_service.store.records import FeedbackOutcome, IssuedCard, IssuedRecord, OfferedReason

TOPIC_SYSTEM = "https://jdm-cds.example.org/fhir/CodeSystem/card-topic"


def card_uuids(body: Mapping[str, Any]) -> list[str]:
    """The card uuids a schema-valid feedback body names."""
    return [item["card"] for item in body["feedback"]]


def feedback_outcomes(
    body: Mapping[str, Any], issued: Mapping[str, IssuedRecord], service_id: str
) -> list[FeedbackOutcome]:
    """Check each item of a schema-valid body against its issued card; SchemaViolationError
    (400) names the first field that is not one the card offered."""
    return [
        _outcome(f"feedback[{index}]", item, issued, service_id)
        for index, item in enumerate(body["feedback"])
    ]


def _outcome(
    where: str, item: Mapping[str, Any], issued: Mapping[str, IssuedRecord], service_id: str
) -> FeedbackOutcome:
    card = issued.get(item["card"])
    if card is None or card.service_id != service_id:
        raise SchemaViolationError(
            f"{where}.card: not a card this service issued (or older than its retention period)"
        )
    outcome = item["outcome"]
    suggestions = _accepted_suggestions(where, item.get("acceptedSuggestions") or (), card)
    if suggestions and outcome != "accepted":
        raise SchemaViolationError(f"{where}.acceptedSuggestions: only with outcome accepted")
    override = item.get("overrideReason")
    if override is not None and outcome != "overridden":
        raise SchemaViolationError(f"{where}.overrideReason: only with outcome overridden")
    reason = _offered_reason(where, (override or {}).get("reason"), card)
    comment = (override or {}).get("userComment")
    return FeedbackOutcome(
        card_uuid=item["card"],
        service_id=service_id,
        topic=card.topic,
        outcome=outcome,
        accepted_suggestions=suggestions,
        override_reason_code=reason.code if reason else None,
        override_reason_display=reason.display if reason else None,
        user_comment_present=isinstance(comment, str) and bool(comment.strip()),
        outcome_timestamp=_instant(where, item["outcomeTimestamp"]),
    )


def _accepted_suggestions(
    where: str, accepted: Sequence[Mapping[str, Any]], card: IssuedRecord
) -> tuple[str, ...]:
    ids: list[str] = []
    for index, suggestion in enumerate(accepted):
        if suggestion["id"] not in card.suggestion_ids:
            raise SchemaViolationError(
                f"{where}.acceptedSuggestions[{index}].id: not a suggestion of this card"
            )
        if suggestion["id"] not in ids:
            ids.append(suggestion["id"])
    return tuple(ids)


def _offered_reason(where: str, reason: Any, card: IssuedRecord) -> OfferedReason | None:
    if reason is None:
        return None
    field = f"{where}.overrideReason.reason"
    code = reason.get("code")
    if code is None:
        raise SchemaViolationError(f"{field}.code: required (a code offered on this card)")
    offered = card.reasons.get(code)
    if offered is None:
        raise SchemaViolationError(
            f"{field}.code: not one of the override reasons offered on this card"
        )
    if "system" in reason and reason["system"] != offered.system:
        raise SchemaViolationError(f"{field}.system: not the system of the reason offered")
    return offered


def _instant(where: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SchemaViolationError(f"{where}.outcomeTimestamp: not a valid instant") from exc
    if moment.tzinfo is None:  # the schema's pattern demands an offset; belt and braces
        raise SchemaViolationError(f"{where}.outcomeTimestamp: needs a time zone")
    try:
        moment.astimezone(UTC)  # 0001-01-01T00:00+01:00 is before the first UTC instant
    except OverflowError as exc:
        raise SchemaViolationError(f"{where}.outcomeTimestamp: outside the range of dates") from exc
    return moment


def card_topic(card: Mapping[str, Any]) -> str | None:
    """The topic code of a card (``source.topic`` in the card-topic code system), if any."""
    topic = (card.get("source") or {}).get("topic") or {}
    if topic.get("system") == TOPIC_SYSTEM and isinstance(topic.get("code"), str):
        code: str = topic["code"]
        return code
    return None


def issued_cards(cards: Sequence[Mapping[str, Any]]) -> list[IssuedCard]:
    """Each card that can get feedback (cards without a uuid cannot), with its choices."""
    return [
        IssuedCard(
            card_uuid=card["uuid"],
            topic=card_topic(card),
            reasons=tuple(
                OfferedReason(reason.get("system"), reason["code"], reason.get("display"))
                for reason in card.get("overrideReasons", ())
                if isinstance(reason.get("code"), str)
            ),
            suggestion_ids=tuple(
                suggestion["uuid"]
                for suggestion in card.get("suggestions", ())
                if isinstance(suggestion.get("uuid"), str)
            ),
        )
        for card in cards
        if isinstance(card.get("uuid"), str)
    ]
