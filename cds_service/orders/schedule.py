"""An order's schedule in a clinician's words: the card builder's wording, shared with the
patient view's methotrexate-schedule card (:mod:`cds_service.card_builder.schedule_text`)."""

from __future__ import annotations

from cds_service.card_builder.schedule_text import schedule_words

__all__ = ["schedule_words"]
