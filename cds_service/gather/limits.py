"""Size limits on what a hook call may bring in: JSON nesting depth, number of FHIR resources, and
what one resource may hold (nesting depth, array lengths, string lengths, objects and arrays in
all).

Each is checked without recursion, level by level, so a hostile document cannot exhaust the
stack here; and before a resource is validated, which is where a resource of a million elements
would cost a minute and a gigabyte.

A request body or a FHIR server's answer is walked once: the FHIR resources in it are screened one
by one (:func:`resource_breach`, depth included), and the rest of it, :func:`without_resources`,
has its depth checked by :func:`json_depth`. A chart's resources are most of what a body holds, so
walking them twice (once for depth, once for the per-resource limits) cost a tenth of a call.

>>> json_depth({"a": [{"b": 1}]})
3
>>> count_resources([{"resourceType": "Patient"},
...                  {"resourceType": "Bundle", "entry": [{"resource": {}}, {"resource": {}}]}])
3
>>> limits = ResourceLimits(array_items=2, string_chars=10, nodes=100, depth=4)
>>> print(resource_breach({"resourceType": "Patient", "name": [{"given": ["A", "B", "C"]}]},
...                       limits))
name.given holds 3 items; a resource may hold at most 2 in one array (CDS_MAX_RESOURCE_ARRAY_ITEMS)
>>> resource_breach({"resourceType": "Patient", "name": [{"given": ["Ann"]}]}, limits) is None
True
>>> print(resource_breach({"extension": [{"extension": [{"valueString": "x"}]}]}, limits))
JSON nests deeper than 4 levels (CDS_MAX_JSON_DEPTH)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cds_service.config import Settings

# Element names are shown in notes only when they look like FHIR element names (a key can be any
# text a client or server sent, and notes must stay free of patient data).
_ELEMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


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
        keep = deeper.append
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    keep(child)
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


@dataclass(frozen=True)
class ResourceLimits:
    """What one FHIR resource may hold (``CDS_MAX_RESOURCE_*``)."""

    array_items: int
    string_chars: int
    nodes: int
    depth: int  # levels of objects and arrays, the resource itself the first

    @classmethod
    def of(cls, settings: Settings) -> ResourceLimits:
        return cls(
            array_items=settings.max_resource_array_items,
            string_chars=settings.max_resource_string_chars,
            nodes=settings.max_resource_nodes,
            depth=settings.max_json_depth,
        )


def resource_breach(resource: Mapping[str, Any], limits: ResourceLimits) -> str | None:
    """Why `resource` holds more than one resource may, or None: the first limit crossed, named
    with its setting, and the element where (names only, never values).

    Stops at the first breach, so a resource of a million identifiers costs one look.
    """
    level: list[Any] = [resource]
    nodes = depth = 0
    while level:
        depth += 1
        if depth > limits.depth:
            return f"JSON nests deeper than {limits.depth} levels (CDS_MAX_JSON_DEPTH)"
        nodes += len(level)
        if nodes > limits.nodes:
            return (
                f"holds more than {limits.nodes} JSON objects and arrays (CDS_MAX_RESOURCE_NODES)"
            )
        deeper: list[Any] = []
        keep = deeper.append
        for node in level:
            if type(node) is dict:
                children: Iterable[Any] = node.values()
            else:
                if len(node) > limits.array_items:
                    return (
                        f"{_element_path(resource, node)} holds {len(node)} items; a resource "
                        f"may hold at most {limits.array_items} in one array "
                        "(CDS_MAX_RESOURCE_ARRAY_ITEMS)"
                    )
                children = node
            for child in children:
                kind = type(child)
                if kind is dict or kind is list:
                    keep(child)
                elif kind is str and len(child) > limits.string_chars:
                    return (
                        f"{_element_path(resource, child)} is a text of {len(child)} "
                        f"characters; at most {limits.string_chars} "
                        "(CDS_MAX_RESOURCE_STRING_CHARS)"
                    )
        level = deeper
    return None


def without_resources(value: Any) -> Any:
    """A FHIR value (a Bundle or one resource) less the resources :func:`resource_breach` screens:
    a Bundle keeps its entries without their ``resource``, a single resource becomes ``{}``. Only
    the shells are copied; what is not a FHIR resource comes back as it is.

    >>> without_resources({"resourceType": "Bundle", "entry": [{"fullUrl": "u", "resource": {}}]})
    {'resourceType': 'Bundle', 'entry': [{'fullUrl': 'u'}]}
    >>> without_resources({"resourceType": "Patient", "id": "p1"}), without_resources([[]])
    ({}, [[]])
    """
    if type(value) is not dict or type(value.get("resourceType")) is not str:
        return value
    entries = value.get("entry")
    if value["resourceType"] != "Bundle" or type(entries) is not list:
        return {}
    return {
        **value,
        "entry": [
            {k: v for k, v in entry.items() if k != "resource"}
            if type(entry) is dict and type(entry.get("resource")) is dict
            else entry
            for entry in entries
        ],
    }


def _element_path(resource: Mapping[str, Any], target: Any) -> str:
    """The element names leading to `target` ("name.given"), found level by level."""
    level: list[tuple[Any, tuple[str, ...]]] = [(resource, ())]
    while level:
        deeper: list[tuple[Any, tuple[str, ...]]] = []
        for node, path in level:
            pairs = node.items() if type(node) is dict else ((None, item) for item in node)
            for key, child in pairs:
                step = path if key is None else (*path, _shown(key))
                if child is target:
                    return ".".join(step) or "the resource"
                if type(child) is dict or type(child) is list:
                    deeper.append((child, step))
        level = deeper
    return "an element"


def _shown(key: Any) -> str:
    return key if isinstance(key, str) and _ELEMENT_NAME.fullmatch(key) else "?"
