"""One hook call's clinical pipeline: raw FHIR resources -> history -> context -> findings -> cards.

The HTTP layer calls :func:`evaluate` with everything it gathered (single resources and searchset
Bundles, as received). The history builder parses them (bad ones become data-quality notes), the
shared clinical context is worked out once, the rules decide, and the card builder writes the
cards. A deceased or out-of-scope patient gets []. Each returned card's topic is
``card["source"]["topic"]["code"]`` (the HTTP layer records it with the card's uuid in
``issued_cards`` so feedback can be summarised per topic).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cds_service.card_builder.cards import build_cards
from cds_service.card_builder.wire import Card
from cds_service.history.build import build_history
from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.thresholds import shift
from cds_service.rules import evaluate_all
from cds_service.rules.context import build_context


@dataclass(frozen=True)
class Evaluation:
    cards: list[Card]
    # PHI-free facts for logs and metrics: whether the patient was in scope and why not, and
    # the topics of the cards returned
    extra: dict[str, Any] = field(default_factory=dict)


def evaluate(
    resources: Sequence[Mapping[str, Any]],
    patient_id: str,
    knowledge: Knowledge,
    now: datetime,
    *,
    public_base_url: str,
    gather_notes: Sequence[str] = (),
    fhir_server: str | None = None,
    checkpoint: Callable[[str], None] = lambda stage: None,
) -> Evaluation:
    """Turn the patient's raw FHIR JSON into cards.

    `resources` holds single resources and Bundles, in any order, as received; `fhir_server` is
    the request's ``fhirServer`` (absolute references to it are this record's).
    `checkpoint(stage)` is called between stages and between the resources being read; it raises
    to stop the work (the call's deadline).
    """
    history = history_of(
        resources,
        patient_id,
        knowledge,
        now,
        fhir_server=fhir_server,
        checkpoint=lambda: checkpoint("reading the record"),
    )
    checkpoint("reading the record")
    context = build_context(history, knowledge, now, tuple(gather_notes))
    findings = evaluate_all(context, knowledge, now)
    checkpoint("evaluating the rules")
    cards = build_cards(
        findings, history, knowledge, now, public_base_url, patient_id, context.scope
    )
    extra = {
        "inScope": context.scope.in_scope,
        "scopeReason": context.scope.reason,
        "topics": [card["source"]["topic"]["code"] for card in cards],
    }
    return Evaluation(cards=cards, extra=extra)


def history_of(
    resources: Sequence[Mapping[str, Any]],
    patient_id: str,
    knowledge: Knowledge,
    now: datetime,
    *,
    fhir_server: str | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> TherapyHistory:
    """The therapy history as the rules see it: with the knowledge's policy, and a second look
    at unmatched records over the IVIG look-back (an unread infusion there could be IVIG).
    `checkpoint` is called before each resource is validated; it may raise to stop the work."""
    return build_history(
        resources,
        patient_id,
        knowledge.terminology,
        now,
        policy=knowledge.history_policy,
        server=fhir_server,
        unread_since=shift(now, knowledge.threshold("ivig_recent_weeks"), -1),
        checkpoint=checkpoint,
    )
