"""The order checks of docs/clinical/order-checks.md: one draft order against the record.

Each check returns findings (none for a correct order). Numbers come from
``cards/order-checks.json`` (``knowledge.orders``) and, for the IVIG course and rituximab, from
``cards/dosing.json`` through the same functions the ``patient-view`` cards use: the IVIG course
an order is held to is ``context.ivig_dose`` (:func:`cds_service.dosing.ivig_course_dose`), so an
order and the ``ivig-start`` card can never disagree about the dose.

A dose within the tolerance (10 %) of its target counts as the target; a cap (40 mg, 1 g, 60 mg)
is a hard limit: exactly at it is correct.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.knowledge.loader import Knowledge
from cds_service.orders.body import Body
from cds_service.orders.doses import daily_glucocorticoid, rituximab
from cds_service.orders.findings import OrderFinding
from cds_service.orders.ivig import ivig
from cds_service.orders.methotrexate import methotrexate
from cds_service.orders.read import OrderReading
from cds_service.rules.context import ClinicalContext


def check_order(
    order: OrderReading, context: ClinicalContext, body: Body, knowledge: Knowledge, now: datetime
) -> list[OrderFinding]:
    """Every finding about one order (none for a correct order)."""
    if order.agent == "methotrexate":
        return methotrexate(order, body, knowledge)
    if order.agent == "ivig":
        return ivig(order, context, body, knowledge, now)
    if order.agent == "rituximab":
        return rituximab(order, body, knowledge)
    if order.agent == "methylprednisolone-iv":
        return daily_glucocorticoid(order, body, knowledge, "order-ivmp-dose")
    return daily_glucocorticoid(order, body, knowledge, "order-steroid-dose")
