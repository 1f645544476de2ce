"""Card wording (``cards/card-texts.json``), bound and checked against the text contract.

Per topic: display, indicator per case, summary variants, recommendation paragraphs, keyed notes,
sources, order-set links and override reasons. Besides topics: the safety checks' lines (with
their effect: hard stop, warning or note), the labels cards use for concepts, the data-quality
card's "could change" phrases, and shared phrases. Numbers are bound at load time
(:mod:`cds_service.knowledge.bindings`); every remaining ``{name}`` must be one the card builder
fills (:mod:`cds_service.knowledge.text_contract`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from string import Formatter
from types import MappingProxyType
from typing import Any

from cds_service.knowledge.bindings import Binder
from cds_service.knowledge.concepts import concept_kind
from cds_service.knowledge.files import field_error, read_validated
from cds_service.knowledge.sources import Source, check_source_keys
from cds_service.knowledge.text_contract import (
    LABELLED_CONCEPTS,
    PHRASES,
    SAFETY_CHECK_PLACEHOLDERS,
    TOPICS,
)

# The checks the rules run (cds_service.rules.safety_checks); each needs its line here.
SAFETY_CHECK_CODES: tuple[str, ...] = (
    "anaphylaxis-to-ig",
    "iga-deficiency",
    "anti-iga",
    "anti-iga-reaction",
    "iga-low",
    "iga-unknown",
    "renal",
    "renal-severe",
    "renal-unknown",
    "renal-unjudged",
    "thrombosis",
    "hemolysis",
    "cardiac-fluid",
    "live-vaccine",
    "live-vaccine-immunosuppressed",
    "vaccine-deferral",
    "migraine",
    "ig-reaction-mild",
)
SUMMARY_MAX = 139  # CDS Hooks: a summary under 140 characters
ANY_CONCEPT = "*"  # the data-quality phrase for a concept without its own


@dataclass(frozen=True)
class OverrideReason:
    code: str
    display: str


@dataclass(frozen=True)
class TopicText:
    topic: str
    display: str
    indicators: Mapping[str, str]  # indicator case -> info | warning | critical
    summaries: Mapping[str, str]  # variant name -> template
    recommendation: tuple[str, ...]  # Markdown paragraphs (templates)
    notes: Mapping[str, str]  # keyed paragraphs a rule may add
    sources: tuple[str, ...]
    links: tuple[str, ...]  # order-set ids
    override_reasons: tuple[OverrideReason, ...]
    # note key -> the sources that note cites (listed on the card only with the note)
    note_sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # safety checks besides the hard stops whose lines a card replacing the IVIG start keeps
    kept_safety_checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SafetyCheckText:
    code: str
    effect: str  # hard-stop | warning | note
    text: str
    sources: tuple[str, ...]
    short: str  # a few words, for a hard stop's summary ('' for other checks)
    review_by: str = ""  # who reviews a hard stop, and what for ('' for other checks)


@dataclass(frozen=True)
class CardTexts:
    topic_system: str
    override_reason_system: str
    topics: Mapping[str, TopicText]
    safety_checks: Mapping[str, SafetyCheckText]
    labels: Mapping[str, str]  # concept -> how cards name it
    data_quality_affects: Mapping[str, str]  # concept (or "*") -> what a left-out record affects
    phrases: Mapping[str, str]

    def phrase(self, key: str, **values: str) -> str:
        """A phrase filled with ``values`` (the contract lists what each phrase takes)."""
        return fill(self.phrases[key], values)

    def label(self, concept: str) -> str:
        return self.labels[concept]


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template.format_map(values)``; a placeholder without a value is an error, never ''."""
    missing = [name for name in placeholders(template) if name not in values]
    if missing:
        raise KeyError(f"no value for placeholder(s) {missing} in {template[:60]!r}")
    return str(template.format_map(values))


def placeholders(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in Formatter().parse(template) if name is not None)


def load_card_texts(
    cards: Path,
    sources: Mapping[str, Source],
    order_set_ids: Collection[str],
    binder: Binder,
    decision_concepts: Collection[str],
) -> CardTexts:
    path = cards / "card-texts.json"
    raw = read_validated(path, cards / "schemas" / "card-texts.schema.json")
    checker = _TemplateChecker(path, binder)
    if set(raw["topics"]) != set(TOPICS):
        extra = sorted(set(raw["topics"]) - set(TOPICS))
        missing = sorted(set(TOPICS) - set(raw["topics"]))
        raise field_error(path, "topics", f"unknown topics {extra}, missing topics {missing}")
    topics = {
        topic: _topic_text(topic, entry, checker, sources, order_set_ids)
        for topic, entry in raw["topics"].items()
    }
    return CardTexts(
        topic_system=raw["topicSystem"],
        override_reason_system=raw["overrideReasonSystem"],
        topics=MappingProxyType(topics),
        safety_checks=_safety_checks(raw["safetyChecks"], checker, sources),
        labels=_labels(raw["labels"], path, decision_concepts),
        data_quality_affects=_affects(raw["dataQualityAffects"], checker),
        phrases=_phrases(raw["phrases"], checker),
    )


class _TemplateChecker:
    def __init__(self, path: Path, binder: Binder) -> None:
        self.path = path
        self.binder = binder

    def check(self, template: str, allowed: Collection[str], field: str) -> str:
        """The template bound; an unknown or unbound placeholder raises, naming the field."""
        bound = self.binder.bind(template, self.path, field)
        try:
            names = placeholders(bound)
        except ValueError as error:  # an unmatched brace
            raise field_error(self.path, field, f"not a template: {error}") from None
        for name in names:
            if name not in allowed:
                offered = ", ".join(sorted(allowed)) or "none"
                raise field_error(
                    self.path, field, f"unknown placeholder {{{name}}} (offered: {offered})"
                )
        return bound


def _topic_text(
    topic: str,
    entry: Mapping[str, Any],
    checker: _TemplateChecker,
    sources: Mapping[str, Source],
    order_set_ids: Collection[str],
) -> TopicText:
    contract = TOPICS[topic]
    field = f"topics.{topic}"
    check_source_keys(entry["sources"], sources, checker.path, f"{field}.sources")
    for index, link in enumerate(entry.get("links", [])):
        if link not in order_set_ids:
            raise field_error(checker.path, f"{field}.links.{index}", f"no order set {link!r}")
    _same_keys(entry["indicator"], contract.cases, checker.path, f"{field}.indicator")
    variants = {name.removesuffix(".short") for name in entry["summary"]}
    _same_keys(dict.fromkeys(variants), contract.variants, checker.path, f"{field}.summary")
    _same_keys(entry.get("notes", {}), contract.notes, checker.path, f"{field}.notes")
    allowed = contract.placeholders
    return TopicText(
        topic=topic,
        display=entry["display"],
        indicators=MappingProxyType(dict(entry["indicator"])),
        summaries=MappingProxyType(
            {
                name: _fits(
                    checker.check(text, allowed, f"{field}.summary.{name}"),
                    checker,
                    f"{field}.summary.{name}",
                )
                for name, text in entry["summary"].items()
            }
        ),
        recommendation=tuple(
            checker.check(text, allowed, f"{field}.recommendation.{index}")
            for index, text in enumerate(entry["recommendation"])
        ),
        notes=MappingProxyType(
            {
                name: checker.check(text, allowed, f"{field}.notes.{name}")
                for name, text in entry.get("notes", {}).items()
            }
        ),
        sources=tuple(entry["sources"]),
        note_sources=MappingProxyType(
            {name: tuple(node["sources"]) for name, node in entry.get("noteSources", {}).items()}
        ),
        links=tuple(entry.get("links", [])),
        kept_safety_checks=_safety_check_codes(
            entry.get("keepSafetyChecks", []), checker, f"{field}.keepSafetyChecks"
        ),
        override_reasons=tuple(
            OverrideReason(reason["code"], reason["display"])
            for reason in entry.get("overrideReasons", [])
        ),
    )


def _safety_check_codes(
    codes: Sequence[str], checker: _TemplateChecker, field: str
) -> tuple[str, ...]:
    unknown = [code for code in codes if code not in SAFETY_CHECK_CODES]
    if unknown:
        raise field_error(checker.path, field, f"no safety check {unknown}")
    return tuple(codes)


def _fits(summary: str, checker: _TemplateChecker, field: str) -> str:
    """A summary whose own words (placeholders aside) are over the limit can never fit."""
    literal = "".join(text for text, _, _, _ in Formatter().parse(summary))
    if len(literal) > SUMMARY_MAX:
        raise field_error(
            checker.path,
            field,
            f"{len(literal)} characters without its values; at most {SUMMARY_MAX}",
        )
    return summary


def _same_keys(found: Mapping[str, Any], expected: Collection[str], path: Path, field: str) -> None:
    """The file must define exactly what the rule chooses between: no more, no less."""
    if set(found) != set(expected):
        raise field_error(
            path,
            field,
            f"the rule chooses between {sorted(expected)}; the file defines {sorted(found)}",
        )


def _safety_checks(
    raw: Mapping[str, Any], checker: _TemplateChecker, sources: Mapping[str, Source]
) -> Mapping[str, SafetyCheckText]:
    _same_keys(raw, SAFETY_CHECK_CODES, checker.path, "safetyChecks")
    checks = {}
    for code, entry in raw.items():
        field = f"safetyChecks.{code}"
        check_source_keys(entry["sources"], sources, checker.path, f"{field}.sources")
        if entry["effect"] == "warning" and f"ivig-safety-{code}" not in TOPICS:
            raise field_error(
                checker.path,
                f"{field}.effect",
                f"a warning gets a card of its own, and there is no topic ivig-safety-{code}: "
                "use hard-stop or note",
            )
        hard_stop = entry["effect"] == "hard-stop"
        if hard_stop != ("short" in entry):
            raise field_error(
                checker.path,
                f"{field}.short",
                "a hard stop needs a short name for its summary"
                if hard_stop
                else "only a hard stop is named in a summary: remove it",
            )
        if hard_stop != ("reviewBy" in entry):
            raise field_error(
                checker.path,
                f"{field}.reviewBy",
                "a hard stop names who reviews it"
                if hard_stop
                else "only a hard stop has a specialist review: remove it",
            )
        text = checker.check(entry["text"], SAFETY_CHECK_PLACEHOLDERS, f"{field}.text")
        checks[code] = SafetyCheckText(
            code,
            entry["effect"],
            text,
            tuple(entry["sources"]),
            entry.get("short", ""),
            entry.get("reviewBy", ""),
        )
    return MappingProxyType(checks)


def _labels(
    raw: Mapping[str, str], path: Path, decision_concepts: Collection[str]
) -> Mapping[str, str]:
    needed = set(LABELLED_CONCEPTS) | set(decision_concepts)
    _same_keys(raw, needed, path, "labels")
    return MappingProxyType(dict(raw))


def _affects(raw: Mapping[str, str], checker: _TemplateChecker) -> Mapping[str, str]:
    if ANY_CONCEPT not in raw:
        raise field_error(checker.path, "dataQualityAffects", f"needs a {ANY_CONCEPT!r} entry")
    for concept in raw:
        if concept != ANY_CONCEPT and concept_kind(concept) is None:
            raise field_error(checker.path, f"dataQualityAffects.{concept}", "not a concept id")
    return MappingProxyType(
        {
            concept: checker.check(text, (), f"dataQualityAffects.{concept}")
            for concept, text in raw.items()
        }
    )


def _phrases(raw: Mapping[str, str], checker: _TemplateChecker) -> Mapping[str, str]:
    _same_keys(raw, PHRASES, checker.path, "phrases")
    return MappingProxyType(
        {key: checker.check(text, PHRASES[key], f"phrases.{key}") for key, text in raw.items()}
    )
