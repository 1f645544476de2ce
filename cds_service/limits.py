"""Size limits on what a hook call may bring in: JSON nesting depth, number of FHIR resources.

Both are checked without recursion, so a hostile document cannot exhaust the stack here.

>>> json_depth({"a": [{"b": 1}]})
3
>>> count_resources([{"resourceType": "Patient"},
...                  {"resourceType": "Bundle", "entry": [{"resource": {}}, {"resource": {}}]}])
3
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def json_depth(value: Any, stop_above: int | None = None) -> int:
    """Deepest nesting of objects/arrays in `value` (a scalar is 0, ``{}`` is 1).

    With `stop_above`, returns as soon as the depth passes it (cheap on hostile input).
    """
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict):
            children: Iterable[Any] = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, depth)
        if stop_above is not None and deepest > stop_above:
            return deepest
        pending.extend((child, depth + 1) for child in children)
    return deepest


def count_resources(values: Iterable[Any]) -> int:
    """FHIR resources in raw values: a Bundle counts its entries, anything else counts one."""
    total = 0
    for value in values:
        if not isinstance(value, dict):
            continue
        if value.get("resourceType") == "Bundle" and isinstance(value.get("entry"), list):
            total += len(value["entry"])
        else:
            total += 1
    return total
