"""Builders shared by the dosing tests (not a test module)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from cds_service.dosing import DosingPolicy, load_dosing_policy
from cds_service.history.model import Measurement, SourceRef
from fhir_fixtures.clocks import DOSING_NOW

REPO = Path(__file__).resolve().parents[2]
DOSING_JSON = REPO / "cards" / "dosing.json"
NOW = DOSING_NOW


def policy() -> DosingPolicy:
    return load_dosing_policy(DOSING_JSON)


def measurement(
    value: str | Decimal,
    *,
    concept: str = "weight",
    days_ago: float = 3,
    resource_id: str = "w-1",
    status: str = "final",
) -> Measurement:
    unit = {"weight": "kg", "height": "cm"}[concept]
    return Measurement(
        concept=concept,
        value=Decimal(value),
        unit=unit,
        at=NOW - timedelta(days=days_ago),
        status=status,
        reference_low=None,
        reference_high=None,
        original=f"{value} {unit}",
        source=SourceRef("Observation", resource_id),
    )
