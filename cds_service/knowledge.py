"""The clinical knowledge base under cards/: loaded and validated once, at startup.

INTERFACE STUB (owned by the clinical-core work, issue 5): replaced when the knowledge files land.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class KnowledgeError(ValueError):
    """A knowledge file is missing or invalid; the message names the file and the field."""


@dataclass(frozen=True)
class Knowledge:
    root: Path


def load_knowledge(root: Path) -> Knowledge:
    if not root.is_dir():
        raise KnowledgeError(f"{root}: knowledge folder not found")
    return Knowledge(root=root)
