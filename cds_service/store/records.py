"""What the store takes and gives: issued cards and their choices, checked feedback outcomes,
and the rows they become (within the caps of :mod:`.schema`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cds_service.store.schema import CODE_CHARS, DISPLAY_CHARS, SYSTEM_CHARS

REASON, SUGGESTION = "reason", "suggestion"


@dataclass(frozen=True)
class OfferedReason:
    """An override reason a card offered (a Coding of the service's own knowledge)."""

    system: str | None
    code: str
    display: str | None


@dataclass(frozen=True)
class IssuedCard:
    """A card the service answered with: what feedback on it may name."""

    card_uuid: str
    topic: str | None
    reasons: tuple[OfferedReason, ...] = ()
    suggestion_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class IssuedRecord:
    """What the store holds of an issued card, to check feedback against."""

    service_id: str
    topic: str | None
    reasons: Mapping[str, OfferedReason]  # by code
    suggestion_ids: frozenset[str]


@dataclass(frozen=True)
class FeedbackOutcome:
    """One card's outcome, checked against the card: every value is one the service issued."""

    card_uuid: str
    service_id: str
    topic: str | None
    outcome: str
    accepted_suggestions: tuple[str, ...]
    override_reason_code: str | None
    override_reason_display: str | None
    user_comment_present: bool
    outcome_timestamp: datetime


def choice_rows(card: IssuedCard) -> list[dict[str, Any]]:
    """The choices of one card, each once, within the columns' caps (a code that does not fit
    could never be matched: the request schema refuses longer ones)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for reason in card.reasons:
        if len(reason.code) <= CODE_CHARS and len(reason.system or "") <= SYSTEM_CHARS:
            display = reason.display[:DISPLAY_CHARS] if reason.display else None
            rows[(REASON, reason.code)] = {"card_uuid": card.card_uuid, "kind": REASON,
                                           "code": reason.code, "system": reason.system,
                                           "display": display}  # fmt: skip
    for suggestion_id in card.suggestion_ids:
        if len(suggestion_id) <= CODE_CHARS:
            rows[(SUGGESTION, suggestion_id)] = {"card_uuid": card.card_uuid, "kind": SUGGESTION,
                                                 "code": suggestion_id, "system": None,
                                                 "display": None}  # fmt: skip
    return list(rows.values())


def feedback_row(outcome: FeedbackOutcome, received_at: datetime) -> dict[str, Any]:
    return {
        "card_uuid": outcome.card_uuid,
        "service_id": outcome.service_id,
        "topic": outcome.topic,
        "outcome": outcome.outcome,
        "accepted_suggestions": json.dumps(list(outcome.accepted_suggestions)),
        "override_reason_code": outcome.override_reason_code,
        "override_reason_display": outcome.override_reason_display,
        "user_comment_present": outcome.user_comment_present,
        "outcome_timestamp": utc(outcome.outcome_timestamp),
        "received_at": utc(received_at),
    }


def utc(moment: datetime) -> datetime:
    """Stored times are UTC: SQLite keeps no offset, so mixed zones would compare wrongly."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return moment.astimezone(UTC)
