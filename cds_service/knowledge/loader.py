"""The clinical knowledge base under cards/: loaded and validated once, at startup.

Everything a rule or a card needs that a pharmacy and therapeutics committee might review lives as
data under ``cards/``: value sets (``valuesets/``), dosing (``dosing.json``), order sets
(``order-sets/``), citation keys (``sources.json``), thresholds (``thresholds.json``) and card
texts (``card-texts.json``). Each kind of file has a JSON Schema under ``cards/schemas/``; on top of
the schemas the loader checks what a schema cannot: that every source key, order-set id and
threshold a rule needs exists. Any failure raises :class:`KnowledgeError` naming the file and field.

Example::

    knowledge = load_knowledge(Path("cards"))
    knowledge.threshold("cmas_weakness").value   # Decimal("48")
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import jsonschema

if TYPE_CHECKING:
    from cds_service.knowledge.dosing_policy import DosingPolicy
    from cds_service.knowledge.history_policy import HistoryPolicy
    from cds_service.knowledge.order_sets import OrderSet
    from cds_service.knowledge.terminology import Terminology

DESIGN_DEFAULT = "design default"

# Thresholds the rules read; a knowledge folder without one of them does not load.
REQUIRED_THRESHOLDS: tuple[str, ...] = (
    "methotrexate_adequate_trial_weeks",
    "ivig_recent_weeks",
    "ivig_failing_courses",
    "monitoring_window_weeks",
    "cmas_weakness",
    "mmt8_weakness",
    "cmas_red_flag",
    "mmt8_red_flag",
    "egfr_renal_warning",
    "egfr_renal_hard_stop",
    "creatinine_rise_ratio",
    "creatinine_rise_window_months",
    "iga_low_mg_dl",
    "live_vaccine_months",
    "vaccine_deferral_months",
    "extramuscular_screen_months",
    "swallow_study_recent_weeks",
    "cvc_recent_days",
    "estrogen_recent_days",
    "taper_floor_before_2_months",
    "taper_floor_before_4_months",
    "taper_floor_before_6_months",
    "taper_max_drop_fraction",
    "taper_drop_window_weeks",
)

REQUIRED_SAFETY_CHECKS: tuple[str, ...] = (
    "anaphylaxis-to-ig",
    "iga-deficiency",
    "iga-unknown",
    "renal",
    "renal-severe",
    "renal-unknown",
    "thrombosis",
    "hemolysis",
    "cardiac-fluid",
    "live-vaccine",
    "vaccine-deferral",
    "migraine",
    "ig-reaction-mild",
)


class KnowledgeError(ValueError):
    """A knowledge file is missing or invalid; the message names the file and the field."""


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    url: str | None
    secondary: bool


@dataclass(frozen=True)
class Threshold:
    name: str
    value: Decimal
    unit: str
    comparison: str  # lt | le | gt | ge: the rule fires when `observed <comparison> value`
    source: str  # a key of sources.json, or "design default"
    description: str


@dataclass(frozen=True)
class OverrideReason:
    code: str
    display: str


@dataclass(frozen=True)
class TopicText:
    topic: str
    display: str
    indicator: str
    summaries: Mapping[str, str]  # variant name -> template
    recommendation: tuple[str, ...]  # Markdown paragraphs (templates)
    sources: tuple[str, ...]
    links: tuple[str, ...]  # order-set ids
    override_reasons: tuple[OverrideReason, ...]


@dataclass(frozen=True)
class SafetyCheckText:
    code: str
    effect: str  # hard-stop | warning | note
    text: str
    sources: tuple[str, ...]
    baseline_order: str | None  # what a note asks to order at baseline, if anything


@dataclass(frozen=True)
class CardTexts:
    topic_system: str
    override_reason_system: str
    topics: Mapping[str, TopicText]
    safety_checks: Mapping[str, SafetyCheckText]


@dataclass(frozen=True)
class Knowledge:
    """Everything under cards/, validated. Frozen; built once by :func:`load_knowledge`."""

    root: Path
    terminology: Terminology
    history_policy: HistoryPolicy
    dosing: DosingPolicy
    order_sets: Mapping[str, OrderSet]
    sources: Mapping[str, Source]
    thresholds: Mapping[str, Threshold]
    texts: CardTexts

    def threshold(self, name: str) -> Threshold:
        return self.thresholds[name]

    def topic(self, topic: str) -> TopicText:
        return self.texts.topics[topic]

    def source(self, key: str) -> Source | None:
        return self.sources.get(key)


def load_knowledge(root: Path) -> Knowledge:
    """Load and validate every file under `root`; raise KnowledgeError on the first fault."""
    # Imported here: those modules import KnowledgeError from this one.
    from cds_service.knowledge.dosing_policy import load_dosing_policy
    from cds_service.knowledge.history_policy import load_history_policy
    from cds_service.knowledge.order_sets import load_order_sets
    from cds_service.knowledge.terminology import load_terminology

    if not root.is_dir():
        raise KnowledgeError(f"{root}: knowledge folder not found")
    # the small files first: a typo in them fails in milliseconds
    sources = load_sources(root / "sources.json", root / "schemas" / "sources.schema.json")
    thresholds = load_thresholds(
        root / "thresholds.json", root / "schemas" / "thresholds.schema.json", sources
    )
    terminology = load_terminology(root / "valuesets")
    history_policy = load_history_policy(root)
    dosing = load_dosing_policy(root / "dosing.json")
    order_sets = load_order_sets(root / "order-sets")
    texts = load_card_texts(
        root / "card-texts.json",
        root / "schemas" / "card-texts.schema.json",
        sources,
        frozenset(order_sets),
    )
    return Knowledge(
        root=root,
        terminology=terminology,
        history_policy=history_policy,
        dosing=dosing,
        order_sets=MappingProxyType(dict(order_sets)),
        sources=sources,
        thresholds=thresholds,
        texts=texts,
    )


def read_validated_json(path: Path, schema_path: Path) -> Any:
    """Read `path` and validate it against the JSON Schema at `schema_path`."""
    document = _read_json(path)
    schema = _read_json(schema_path)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        raise KnowledgeError(f"{path}: field {_field(first.absolute_path)}: {first.message}")
    return document


def load_sources(path: Path, schema_path: Path) -> Mapping[str, Source]:
    raw = read_validated_json(path, schema_path)["sources"]
    return MappingProxyType(
        {
            key: Source(key, entry["label"], entry.get("url"), entry.get("secondary", False))
            for key, entry in raw.items()
        }
    )


def load_thresholds(
    path: Path, schema_path: Path, sources: Mapping[str, Source]
) -> Mapping[str, Threshold]:
    raw = read_validated_json(path, schema_path)["thresholds"]
    for name in REQUIRED_THRESHOLDS:
        if name not in raw:
            raise KnowledgeError(f"{path}: field thresholds.{name}: required threshold missing")
    thresholds = {}
    for name, entry in raw.items():
        _check_source(entry["source"], sources, path, f"thresholds.{name}.source")
        thresholds[name] = Threshold(
            name=name,
            value=Decimal(entry["value"]),
            unit=entry["unit"],
            comparison=entry["comparison"],
            source=entry["source"],
            description=entry["description"],
        )
    return MappingProxyType(thresholds)


def load_card_texts(
    path: Path, schema_path: Path, sources: Mapping[str, Source], order_set_ids: frozenset[str]
) -> CardTexts:
    raw = read_validated_json(path, schema_path)
    topics = {
        topic: _topic_text(topic, entry, path, sources, order_set_ids)
        for topic, entry in raw["topics"].items()
    }
    checks = {}
    for code in REQUIRED_SAFETY_CHECKS:
        if code not in raw["safetyChecks"]:
            raise KnowledgeError(
                f"{path}: field safetyChecks.{code}: required safety check missing"
            )
    for code, entry in raw["safetyChecks"].items():
        _check_sources(entry["sources"], sources, path, f"safetyChecks.{code}.sources")
        checks[code] = SafetyCheckText(
            code,
            entry["effect"],
            entry["text"],
            tuple(entry["sources"]),
            entry.get("baselineOrder"),
        )
    return CardTexts(
        topic_system=raw["topicSystem"],
        override_reason_system=raw["overrideReasonSystem"],
        topics=MappingProxyType(topics),
        safety_checks=MappingProxyType(checks),
    )


def _topic_text(
    topic: str,
    entry: Mapping[str, Any],
    path: Path,
    sources: Mapping[str, Source],
    order_set_ids: frozenset[str],
) -> TopicText:
    _check_sources(entry["sources"], sources, path, f"topics.{topic}.sources")
    for index, link in enumerate(entry.get("links", [])):
        if link not in order_set_ids:
            raise KnowledgeError(
                f"{path}: field topics.{topic}.links.{index}: unknown order set {link!r}"
            )
    return TopicText(
        topic=topic,
        display=entry["display"],
        indicator=entry["indicator"],
        summaries=MappingProxyType(dict(entry["summary"])),
        recommendation=tuple(entry["recommendation"]),
        sources=tuple(entry["sources"]),
        links=tuple(entry.get("links", [])),
        override_reasons=tuple(
            OverrideReason(reason["code"], reason["display"])
            for reason in entry.get("overrideReasons", [])
        ),
    )


def _check_sources(
    keys: Sequence[str], sources: Mapping[str, Source], path: Path, field: str
) -> None:
    for index, key in enumerate(keys):
        _check_source(key, sources, path, f"{field}.{index}")


def _check_source(key: str, sources: Mapping[str, Source], path: Path, field: str) -> None:
    if key != DESIGN_DEFAULT and key not in sources:
        raise KnowledgeError(f"{path}: field {field}: unknown source key {key!r}")


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise KnowledgeError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KnowledgeError(f"{path}: not readable JSON: {exc}") from None


def _field(parts: Sequence[Any]) -> str:
    return ".".join(str(part) for part in parts) or "(top level)"
