"""One hook call's clinical pipeline: raw FHIR resources -> history -> findings -> cards.

INTERFACE STUB (owned by the clinical-core work, issue 5): the signature is the contract the
HTTP layer codes against; the body is replaced when the rules land.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cds_service.knowledge import Knowledge


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
    """
    return Evaluation(cards=[], gather_notes=tuple(gather_notes))
