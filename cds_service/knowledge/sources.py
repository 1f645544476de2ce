"""Citation keys (``cards/sources.json``): every source a card, threshold or dose cites."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from cds_service.knowledge.files import field_error, read_validated

# The key for a number no publication gives: the default is this service's own, said as such.
DESIGN_DEFAULT = "design default"


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    url: str | None
    secondary: bool  # the fact was seen in a summary of the primary source


def load_sources(cards: Path) -> Mapping[str, Source]:
    raw = read_validated(cards / "sources.json", cards / "schemas" / "sources.schema.json")
    return MappingProxyType(
        {
            key: Source(key, entry["label"], entry.get("url"), entry.get("secondary", False))
            for key, entry in raw["sources"].items()
        }
    )


def check_source_key(key: str, sources: Mapping[str, Source], path: Path, field: str) -> None:
    """The key must be in sources.json (or be ``design default``); the error names the field."""
    if key != DESIGN_DEFAULT and key not in sources:
        raise field_error(path, field, f"unknown source key {key!r}")


def check_source_keys(
    keys: Iterable[str], sources: Mapping[str, Source], path: Path, field: str
) -> None:
    for index, key in enumerate(keys):
        check_source_key(key, sources, path, f"{field}.{index}")
