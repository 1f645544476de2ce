"""One hook call's clinical pipeline: raw FHIR resources -> history -> findings -> cards.

The HTTP layer calls :func:`evaluate` with everything it gathered (single resources and searchset
Bundles, as received). The history builder parses them (bad ones become data-quality notes), the
rules decide, and the card builder writes the cards. A deceased or out-of-scope patient gets [].
Each returned card's topic is ``card["source"]["topic"]["code"]`` (the HTTP layer records it with
the card's uuid in ``issued_cards`` so feedback can be summarised per topic).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cds_service.card_builder.cards import build_cards
from cds_service.history.build import build_history
from cds_service.knowledge.loader import Knowledge
from cds_service.rules import evaluate_all
from cds_service.rules.scope import assess_scope


@dataclass(frozen=True)
class HookContext:
    patient_id: str
    user_id: str
    encounter_id: str | None = None


@dataclass(frozen=True)
class Evaluation:
    cards: list[dict[str, Any]]
    # what the gathering step could not get (keys cut short, failed fetches); shown on a
    # data-quality card when it could change a recommendation
    gather_notes: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def evaluate(
    resources: Sequence[Mapping[str, Any]],
    context: HookContext,
    knowledge: Knowledge,
    now: datetime,
    *,
    public_base_url: str,
    gather_notes: Sequence[str] = (),
) -> Evaluation:
    """Turn the patient's raw FHIR JSON into cards.

    `resources` holds single resources and searchset Bundles, in any order, as received.
    `extra` carries PHI-free facts for logs and metrics: whether the patient was in scope and why
    not, and the topics of the cards returned.
    """
    history = build_history(
        resources, context.patient_id, knowledge.terminology, now, policy=knowledge.history_policy
    )
    scope = assess_scope(history, now)
    findings = evaluate_all(history, knowledge, now, tuple(gather_notes))
    cards = build_cards(findings, history, knowledge, now, public_base_url, context.patient_id)
    extra = {
        "inScope": scope.in_scope,
        "scopeReason": scope.reason,
        "topics": [card["source"]["topic"]["code"] for card in cards],
    }
    return Evaluation(cards=cards, gather_notes=tuple(gather_notes), extra=extra)
