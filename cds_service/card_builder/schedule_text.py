"""A schedule in a clinician's words: ``daily``, ``3 times a day``, ``every 2 days`` (an order at
order-select / order-sign, a methotrexate order or statement of the history on patient-view).

The words are phrases of ``cards/card-texts.json`` (``order.schedule.*``); only the count is
worked out here.
"""

from __future__ import annotations

from decimal import Decimal

from cds_service.dosing.figures import plain
from cds_service.history.dosage import Timing
from cds_service.knowledge.texts import CardTexts


def schedule_words(timing: Timing, texts: CardTexts) -> str:
    per_day = timing.doses_per_day
    if per_day is not None and per_day > 0:
        if per_day == 1:
            return texts.phrase("order.schedule.daily")
        if per_day > 1:
            return texts.phrase("order.schedule.perDay", count=plain(per_day))
        every = (Decimal(1) / per_day).quantize(Decimal("0.1"))
        return texts.phrase("order.schedule.everyDays", days=plain(every))
    per_week = timing.per_week or Decimal(0)
    if per_week == 1:
        return texts.phrase("order.schedule.weekly")
    if 0 < per_week < 1:
        every = (Decimal(7) / per_week).quantize(Decimal("0.1"))
        return texts.phrase("order.schedule.everyDays", days=plain(every))
    return texts.phrase("order.schedule.perWeek", count=plain(per_week.normalize()))
