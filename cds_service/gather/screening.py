"""Resources over the per-resource limits, left out of what was gathered before anything reads them.

A value is what a prefetch key holds or what one fetch answered: a searchset Bundle (its oversized
entries are left out, the others kept) or a single resource (kept whole, or left out whole).

>>> from cds_service.gather.limits import ResourceLimits
>>> limits = ResourceLimits(array_items=2, string_chars=100, nodes=100, depth=64)
>>> bundle = {"resourceType": "Bundle", "entry": [
...     {"resource": {"resourceType": "Observation", "note": [{}, {}, {}]}},
...     {"resource": {"resourceType": "Observation"}}]}
>>> screened = screen(bundle, limits)
>>> len(screened.value["entry"]), screened.left_out
(1, 1)
>>> left_out_note("Observation", screened)  # doctest: +NORMALIZE_WHITESPACE
'Observation: 1 resource left out unread: note holds 3 items; a resource may hold at most 2 in
 one array (CDS_MAX_RESOURCE_ARRAY_ITEMS)'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cds_service.gather.limits import ResourceLimits, resource_breach


@dataclass(frozen=True)
class Screened:
    """`value` to use (None: the single resource itself is over a limit), how many resources
    were left out and the first limit they crossed."""

    value: dict[str, Any] | None
    left_out: int = 0
    reason: str | None = None


def screen(value: Mapping[str, Any], limits: ResourceLimits) -> Screened:
    """`value` without the resources that hold more than `limits` allow (copied only then)."""
    entries = value.get("entry") if value.get("resourceType") == "Bundle" else None
    if isinstance(entries, list):
        kept: list[Any] = []
        reason: str | None = None
        for entry in entries:
            resource = entry.get("resource") if type(entry) is dict else None
            breach = resource_breach(resource, limits) if type(resource) is dict else None
            if breach is None:
                kept.append(entry)
            else:
                reason = reason or breach
        left_out = len(entries) - len(kept)
        if not left_out:
            return Screened(dict(value))
        return Screened({**value, "entry": kept}, left_out, reason)
    breach = resource_breach(value, limits)
    return Screened(None, 1, breach) if breach else Screened(dict(value))


def left_out_note(resource_type: str, screened: Screened) -> str:
    """The gather note for what `screened` left out (PHI-free: counts, element names, limits)."""
    count = screened.left_out
    noun = "resource" if count == 1 else "resources"
    return f"{resource_type}: {count} {noun} left out unread: {screened.reason}"
