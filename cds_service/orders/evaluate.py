"""One order-select / order-sign call: the record and the draft orders -> one card per order.

The record is read exactly as for ``patient-view`` (:func:`cds_service.pipeline.history_of`,
:func:`cds_service.rules.context.build_context`): the same scope gate, dosing weight, IVIG
course and safety checks. Out of scope (not JDM, 18 or over, deceased) -> no cards; a drug with
no order check -> no card; a correct order -> no card.

Example::

    cards = evaluate_orders(resources, drafts, bundle, "p1", knowledge, now)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cds_service.card_builder.wire import Card
from cds_service.knowledge.loader import Knowledge
from cds_service.orders.body import body_of
from cds_service.orders.cards import order_card
from cds_service.orders.checks import check_order
from cds_service.orders.read import read_orders
from cds_service.pipeline import Evaluation, history_of
from cds_service.rules.context import build_context


def evaluate_orders(
    resources: Sequence[Mapping[str, Any]],
    drafts: Sequence[Mapping[str, Any]],
    bundle: Sequence[Mapping[str, Any]],
    patient_id: str,
    knowledge: Knowledge,
    now: datetime,
    *,
    gather_notes: Sequence[str] = (),
    fhir_server: str | None = None,
    public_base_url: str | None = None,
) -> Evaluation:
    """Cards for the draft orders ``drafts`` (MedicationRequests of the ``bundle``);
    `public_base_url` serves the order-set link of an unconfirmed diagnosis (none without it)."""
    readings = read_orders(drafts, bundle, patient_id, knowledge, now)
    if not readings:  # nothing of ours ordered: the record need not be read at all
        return Evaluation(cards=[], extra={"inScope": None, "topics": []})
    history = history_of(resources, patient_id, knowledge, now, fhir_server=fhir_server)
    context = build_context(history, knowledge, now, tuple(gather_notes))
    extra: dict[str, Any] = {"inScope": context.scope.in_scope, "scopeReason": context.scope.reason}
    if not context.scope.in_scope:
        return Evaluation(cards=[], extra=extra | {"topics": []})
    body = body_of(context, knowledge)
    cards: list[Card] = []
    for reading in readings:
        findings = check_order(reading, context, body, knowledge, now)
        if findings:
            cards.append(order_card(reading, findings, context, knowledge, public_base_url))
    extra["topics"] = [card["source"]["topic"]["code"] for card in cards]
    return Evaluation(cards=cards, extra=extra)
