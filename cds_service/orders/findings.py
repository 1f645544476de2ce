"""What an order check returns: a finding about one order, and the correction it proposes.

As with :mod:`cds_service.rules.findings`, a finding holds facts and no prose of its own beyond
the figures; the words come from ``cards/card-texts.json`` (topics ``order-*``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cds_service.history.model import SourceRef
from cds_service.rules.findings import Fact, SafetyCheckResult, ThresholdUse


@dataclass(frozen=True)
class Correction:
    """How the corrected order differs from the draft: a dose, a schedule, or both."""

    dose_value: Decimal | None = None
    dose_unit: str | None = None  # a UCUM code: mg, g, {pill} ...
    repeat: Mapping[str, Any] | None = None  # the new ``timing.repeat`` (the code is dropped)


@dataclass(frozen=True)
class OrderFinding:
    topic: str  # order-mtx-frequency, order-ivig-dose, ...
    case: str = "default"  # the indicator case of card-texts.json
    variant: str = "default"  # the summary variant
    values: Mapping[str, str] = field(default_factory=dict)  # the topic's placeholders
    facts: tuple[Fact, ...] = ()  # figures read and expected (evidence)
    thresholds: tuple[ThresholdUse, ...] = ()
    resources: tuple[SourceRef, ...] = ()
    correction: Correction | None = None
    delete: bool = False  # offer to remove the order (the frequency error)
    note_keys: tuple[str, ...] = ()
    safety_checks: tuple[SafetyCheckResult, ...] = ()
    # the checks this finding could not make (order-weight-needed): topics
    blocked: tuple[str, ...] = ()
