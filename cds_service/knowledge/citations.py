"""Which field of which knowledge file cites each source key.

Every key of ``sources.json`` must be cited somewhere (a threshold, a dosing number, a card topic,
a safety check, the history policy or an order set); a source cited nowhere is refused, so the list
of sources is the list of what the service rests on. ``jdm-cds check-knowledge --sources`` prints
the index for a reviewer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cds_service.knowledge.files import field_error, read_json
from cds_service.knowledge.sources import DESIGN_DEFAULT, Source

CITING_KEYS = frozenset({"source", "sources", "growthReferenceSources"})
CITING_FILES = (
    "thresholds.json",
    "dosing.json",
    "history.json",
    "card-texts.json",
    "order-checks.json",
)


def citation_index(cards: Path, sources: Mapping[str, Source]) -> Mapping[str, tuple[str, ...]]:
    """Source key -> the fields citing it, as ``file: field``; refuses a key cited nowhere."""
    cited: dict[str, list[str]] = {key: [] for key in sources}
    found = [
        (key, f"{name}: {field}")
        for name in CITING_FILES
        for key, field in _cited_in(read_json(cards / name))
    ]
    for path in sorted((cards / "order-sets").glob("*.json")):
        for index, artifact in enumerate(read_json(path).get("relatedArtifact", [])):
            found.append((artifact["label"], f"order-sets/{path.name}: relatedArtifact.{index}"))
    for key, where in found:
        if key != DESIGN_DEFAULT and key in cited:
            cited[key].append(where)
    for key, places in cited.items():
        if not places:
            raise field_error(
                cards / "sources.json", f"sources.{key}", "cited nowhere in cards/: remove it"
            )
    return MappingProxyType({key: tuple(places) for key, places in cited.items()})


def _cited_in(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            field = f"{path}.{key}" if path else key
            if key in CITING_KEYS:
                for item in [value] if isinstance(value, str) else value:
                    yield item, field
            else:
                yield from _cited_in(value, field)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _cited_in(value, f"{path}.{index}")
