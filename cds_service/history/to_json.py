"""The therapy history as plain JSON: for golden files and ``jdm-cds history --json``.

Stable: dataclass fields in their declared order, mappings by sorted key, Decimals as strings
(exact, never floats), datetimes and dates in ISO 8601 with their offset.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from cds_service.history.model import TherapyHistory


def history_to_json(history: TherapyHistory) -> dict[str, Any]:
    return {f.name: to_plain(getattr(history, f.name)) for f in dataclasses.fields(history)}


def to_plain(value: Any) -> Any:
    """Dataclasses, Decimals, datetimes, enums, mappings and tuples -> JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_plain(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    return value
