"""Red-flag findings in free text: a phrase of ``cards/history.json`` ``free_text_findings``.

Conservative on purpose. A phrase counts only as whole words; the sentence holding it is kept as
the quote the card shows, so the clinician judges the words, not the service. A negation word
earlier in the same sentence ("no trouble swallowing", "denies hoarseness") means the finding is
not counted, and the data-quality card names it instead, quoted: the service never decides
silently that words mean nothing.

>>> reader = FreeTextReader({"dysphagia": ("trouble swallowing",)}, ("no", "denies"))
>>> reader.findings("Seen today. Trouble swallowing, coughing with drinks!")
(TextFinding(concept='dysphagia', quote='Trouble swallowing, coughing with drinks', negated=False),)
>>> reader.findings("No trouble swallowing.")[0].negated
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from cds_service.knowledge.history_policy import HistoryPolicy
from cds_service.knowledge.terminology import words_pattern

QUOTE_MAX = 160  # characters of a sentence shown on a card
_SENTENCES = re.compile(r"[.;!?\n\r]+")


@dataclass(frozen=True)
class TextFinding:
    concept: str
    quote: str  # the sentence holding the phrase, as written (shortened at a word)
    negated: bool


class FreeTextReader:
    """Finds each concept's phrases in a text, sentence by sentence."""

    def __init__(self, phrases: Mapping[str, tuple[str, ...]], negations: tuple[str, ...]):
        self._patterns = tuple(
            (concept, words_pattern(tuple(p.lower() for p in found)))
            for concept, found in sorted(phrases.items())
        )
        self._negation = words_pattern(tuple(n.lower() for n in negations))

    def findings(self, text: str) -> tuple[TextFinding, ...]:
        """Each concept named in `text`, once, with its first sentence (a plain one first)."""
        found: dict[str, TextFinding] = {}
        for sentence in _SENTENCES.split(text):
            lowered = sentence.lower()
            for concept, pattern in self._patterns:
                match = pattern.search(lowered)
                if match is None:
                    continue
                negated = self._negation.search(lowered, 0, match.start()) is not None
                earlier = found.get(concept)
                if earlier is None or (earlier.negated and not negated):
                    found[concept] = TextFinding(concept, shorten(sentence.strip()), negated)
        return tuple(found.values())


def shorten(text: str, most: int = QUOTE_MAX) -> str:
    """`text` cut at a word boundary to at most `most` characters, marked with an ellipsis."""
    if len(text) <= most:
        return text
    cut = text[: most - 1].rsplit(" ", 1)[0].rstrip(" ,")
    return cut + "…"


def reader_for(policy: HistoryPolicy) -> FreeTextReader:
    return _reader(tuple(sorted(policy.free_text_phrases.items())), policy.negations)


@lru_cache(maxsize=8)
def _reader(
    phrases: tuple[tuple[str, tuple[str, ...]], ...], negations: tuple[str, ...]
) -> FreeTextReader:
    return FreeTextReader(dict(phrases), negations)
