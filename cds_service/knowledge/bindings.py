"""Numbers in card wording, bound at startup to the file that holds them.

A template may say ``{threshold:monitoring_window_weeks}``, ``{dosing:ivig.riskDays}`` or
``{decision:taperFloors.0.beforeMonths}`` or ``{orders:methotrexate.capMgPerWeek}``; :func:`bind`
replaces each with the value from ``thresholds.json``, ``dosing.json``, ``decision.json`` or
``order-checks.json``, optionally through a filter
(``|percent``, ``|mg-to-g``, ``|days-to-weeks``). A number therefore lives in one file, and a
template naming a value that does not exist stops startup.

>>> binder = Binder({}, {"ivig": {"riskDays": {"value": "5"}}}, {})
>>> binder.bind("a {dosing:ivig.riskDays}-day split", Path("t.json"), "x")
'a 5-day split'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cds_service.knowledge.files import field_error
from cds_service.knowledge.thresholds import Threshold

BOUND = re.compile(r"\{(threshold|dosing|decision|orders):([A-Za-z0-9_.\-]+)(?:\|([a-z-]+))?\}")
FILTERS: Mapping[str, Callable[[Decimal], Decimal]] = MappingProxyType(
    {
        "percent": lambda value: value * 100,
        "mg-to-g": lambda value: value / 1000,
        "days-to-weeks": lambda value: value / 7,
    }
)


def plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: ``plain(Decimal("12.50")) == "12.5"``."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


class Binder:
    """Resolves bound placeholders against the loaded threshold, dosing and decision files."""

    def __init__(
        self,
        thresholds: Mapping[str, Threshold],
        dosing: Mapping[str, Any],
        decision: Mapping[str, Any],
        orders: Mapping[str, Any] | None = None,
    ) -> None:
        self._thresholds = thresholds
        self._documents = {"dosing": dosing, "decision": decision, "orders": orders or {}}

    def bind(self, template: str, path: Path, field: str) -> str:
        """``template`` with every bound placeholder replaced (braces in values escaped)."""

        def value_of(match: re.Match[str]) -> str:
            kind, name, filter_name = match.group(1), match.group(2), match.group(3)
            raw = self._lookup(kind, name, path, field)
            if filter_name is not None:
                convert = FILTERS.get(filter_name)
                if convert is None or not isinstance(raw, Decimal):
                    raise field_error(path, field, f"filter {filter_name!r} cannot apply here")
                raw = convert(raw)
            text = plain(raw) if isinstance(raw, Decimal) else raw
            return text.replace("{", "{{").replace("}", "}}")

        return BOUND.sub(value_of, template)

    def _lookup(self, kind: str, name: str, path: Path, field: str) -> Decimal | str:
        if kind == "threshold":
            threshold = self._thresholds.get(name)
            if threshold is None:
                raise field_error(path, field, f"no threshold {name!r} in thresholds.json")
            return threshold.value
        node: Any = self._documents[kind]
        for part in name.split("."):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                raise field_error(path, field, f"no {name!r} in {kind}.json")
        if isinstance(node, Mapping) and "value" in node:
            node = node["value"]
        if isinstance(node, bool) or not isinstance(node, str | int):
            raise field_error(path, field, f"{kind}:{name} is not a single value")
        if isinstance(node, int) or re.fullmatch(r"[0-9]+(\.[0-9]+)?", node):
            return Decimal(node)
        return node
