"""Card wording holds no number that lives in thresholds.json, dosing.json or decision.json.

Such numbers are bound (``{threshold:NAME}``, ``{dosing:PATH}``, ``{decision:PATH}``), so a card
can never contradict the number its rule used. Numbers that are part of a name (MMT-8) and the
markers of a numbered list are not clinical numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CARDS = Path(__file__).resolve().parent.parent / "cards"
BOUND = re.compile(r"\{(?:threshold|dosing|decision):[^}]*\}")
# a number, not part of a name like MMT-8 or Q4H, not a numbered-list marker
NUMBER = re.compile(r"(?<![A-Za-z0-9.])(?<![A-Za-z]-)[0-9]+(?:\.[0-9]+)?(?!\. \*\*)")


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "description":
                yield from strings(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{path}.{index}")
    elif isinstance(node, str):
        yield path, node


def numbers_in(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(numbers_in(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(numbers_in(v) for v in node)) if node else set()
    if isinstance(node, bool):
        return set()
    if isinstance(node, int | float):
        return {str(node)}
    if isinstance(node, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)?", node):
        return {node.rstrip("0").rstrip(".") if "." in node else node}
    return set()


def literal_numbers(template: str) -> list[str]:
    return NUMBER.findall(BOUND.sub("", template))


def test_the_pattern_finds_numbers_and_not_names() -> None:
    assert literal_numbers("rate <= 0.03 mL/kg/min, 5-day split") == ["0.03", "5"]
    assert literal_numbers("CMAS and/or MMT-8; at {threshold:x} weeks") == []
    assert literal_numbers("1. **Rituximab** at 750 mg/m2") == ["750"]
    assert literal_numbers("Hb 36-96 h after") == ["36", "96"]


def test_no_card_text_repeats_a_number_of_the_knowledge_files() -> None:
    texts = json.loads((CARDS / "card-texts.json").read_text(encoding="utf-8"))
    owned: set[str] = set()
    for name in ("thresholds.json", "dosing.json", "decision.json", "order-checks.json"):
        owned |= numbers_in(json.loads((CARDS / name).read_text(encoding="utf-8")))
    assert {"48", "0.03", "70", "750", "12"} <= owned  # the scan reads the files
    repeated = [
        (field, number)
        for field, template in strings(texts)
        for number in literal_numbers(template)
        if number in owned
    ]
    assert repeated == []
