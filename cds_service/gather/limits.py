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
    Level by level, keeping only containers: a request body holds hundreds of thousands of
    scalars, and visiting each as a pending item cost about as much as parsing the JSON.
    """
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if stop_above is not None and depth > stop_above:
            return depth
        deeper: list[Any] = []
        for node in level:
            children: Iterable[Any] = node.values() if type(node) is dict else node
            deeper += [child for child in children if type(child) is dict or type(child) is list]
        level = deeper
    return depth


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
