"""``build_history``: raw FHIR JSON of one patient -> :class:`TherapyHistory` at `now`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from cds_service.fhir_parse import parse_resources
from cds_service.history.body import BodySize
from cds_service.history.measurements import map_observations
from cds_service.history.model import TherapyHistory
from cds_service.history.patient import map_patient
from cds_service.history.policy import HistoryPolicy, load_history_policy
from cds_service.history.problems import map_problems
from cds_service.terminology import Terminology


@cache
def default_policy() -> HistoryPolicy:
    return load_history_policy()


def build_history(
    raw: Sequence[Mapping[str, Any]],
    patient_id: str,
    terminology: Terminology,
    now: datetime,
    *,
    policy: HistoryPolicy | None = None,
) -> TherapyHistory:
    """Parse, validate and map a patient's resources; `now` must be timezone-aware."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    policy = policy or default_policy()
    record = parse_resources(raw, patient_id, terminology=terminology)
    observations = map_observations(record.of_type("Observation"), now)
    weights = observations.measurements.get("weight", ())
    body = BodySize(weights, observations.measurements.get("height", ()), policy)
    return TherapyHistory(
        patient=map_patient(record.patient, patient_id, now),
        now=now,
        problems=map_problems(record.of_type("Condition"), now),
        measurements=observations.measurements,
        coded_results=observations.coded_results,
        latest_weight=weights[-1] if weights else None,
        bsa=body.latest_bsa(),
        data_quality=(*record.notes, *observations.notes),
        unmatched_counts=record.unmatched_counts,
    )
