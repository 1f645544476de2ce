"""Response over time: the last values of CMAS, MMT-8 and CK, and whether strength is improving
(docs/clinical/decision-model.md §4).

A strength score improves when its latest value is at least its ``*_improving_points`` above the
oldest of its last three values, and worsens when it is that much below. CK is shown, not judged:
it falls with steroids whatever the muscles do.
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_service.history.model import Measurement, TherapyHistory
from cds_service.knowledge.concepts import MeasurementConcept
from cds_service.knowledge.loader import Knowledge

TREND_LENGTH = 3  # values shown per measure
# measure -> the threshold of the change that counts (None: shown only)
TREND_MEASURES: tuple[tuple[MeasurementConcept, str | None], ...] = (
    ("cmas", "cmas_improving_points"),
    ("mmt8", "mmt8_improving_points"),
    ("ck", None),
)


@dataclass(frozen=True)
class ScoreTrend:
    concept: MeasurementConcept
    values: tuple[Measurement, ...]  # oldest first, at most TREND_LENGTH
    improving: bool
    worsening: bool


def score_trends(history: TherapyHistory, knowledge: Knowledge) -> tuple[ScoreTrend, ...]:
    """A trend for each measure with a value on record (at `history.now` or before)."""
    trends = []
    for concept, threshold_name in TREND_MEASURES:
        values = tuple(m for m in history.series(concept) if m.at <= history.now)[-TREND_LENGTH:]
        if not values:
            continue
        improving = worsening = False
        if threshold_name is not None and len(values) > 1:
            points = knowledge.threshold(threshold_name)
            change = values[-1].value - values[0].value
            improving, worsening = points.crossed(change), points.crossed(-change)
        trends.append(ScoreTrend(concept, values, improving, worsening))
    return tuple(trends)
