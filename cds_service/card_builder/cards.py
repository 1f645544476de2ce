"""Findings + knowledge texts -> CDS Hooks 2.0 cards (CARD-CONTRACT.md).

Every card: ``uuid``, ``summary`` (<= 139 characters), ``indicator``, ``detail`` (Markdown, in
this order: recommendation, "Why this card", "Dose arithmetic", "Safety notes", "Sources"),
``source`` with the topic Coding, ``overrideReasons``, absolute ``links`` to the order sets, the
evidence extension, and ``suggestions`` (with ``selectionBehavior``) where the finding asks for
draft orders. Optional fields are omitted, never null or empty. Cards are sorted critical ->
warning -> info, then by the contract's topic order.

Example::

    cards = build_cards(findings, history, knowledge, now, "https://cds.example.org", "p1")
    cards[0]["source"]["topic"]["code"]   # "ivig-start"
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from string import Formatter
from typing import Any

from cds_service.card_builder.evidence import EVIDENCE_KEY, evidence
from cds_service.card_builder.markdown import md_escape
from cds_service.card_builder.suggestions import suggestions
from cds_service.card_builder.timeline import finding_lines, timeline_lines
from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import DESIGN_DEFAULT, Knowledge, TopicText
from cds_service.rules.findings import TOPIC_ORDER, Effect, Finding, Indicator

SUMMARY_MAX = 139
INDICATOR_RANK = {Indicator.CRITICAL: 0, Indicator.WARNING: 1, Indicator.INFO: 2}
# template values that are Markdown written by the rules, not record text
MARKDOWN_VALUES = frozenset({"rituximab_dose"})


def build_cards(
    findings: Sequence[Finding],
    history: TherapyHistory,
    knowledge: Knowledge,
    now: datetime,
    public_base_url: str,
    patient_id: str,
) -> list[dict[str, Any]]:
    ordered = sorted(
        findings, key=lambda f: (INDICATOR_RANK[f.indicator], TOPIC_ORDER.index(f.topic))
    )
    return [build_card(f, history, knowledge, now, public_base_url, patient_id) for f in ordered]


def build_card(
    finding: Finding,
    history: TherapyHistory,
    knowledge: Knowledge,
    now: datetime,
    public_base_url: str,
    patient_id: str,
) -> dict[str, Any]:
    text = knowledge.topic(finding.topic)
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": summary(finding, text),
        "indicator": str(finding.indicator),
        "detail": detail(finding, history, knowledge, now),
        "source": _source(finding, text, knowledge),
    }
    drafted = suggestions(finding, knowledge, patient_id)
    if drafted:
        card["suggestions"] = drafted
        card["selectionBehavior"] = "any"
    if text.override_reasons:
        card["overrideReasons"] = [
            {"system": knowledge.texts.override_reason_system, "code": r.code, "display": r.display}
            for r in text.override_reasons
        ]
    if text.links:
        card["links"] = _links(text, knowledge, public_base_url)
    card["extension"] = {EVIDENCE_KEY: evidence(finding, history)}
    return card


def _source(finding: Finding, text: TopicText, knowledge: Knowledge) -> dict[str, Any]:
    primary = knowledge.source(text.sources[0])
    source: dict[str, Any] = {"label": primary.label if primary else text.sources[0]}
    if primary is not None and primary.url:
        source["url"] = primary.url
    source["topic"] = {
        "system": knowledge.texts.topic_system,
        "code": finding.topic,
        "display": text.display,
    }
    return source


def _links(text: TopicText, knowledge: Knowledge, public_base_url: str) -> list[dict[str, str]]:
    base = public_base_url.rstrip("/")
    return [
        {
            "label": f"Order set: {_order_set_title(knowledge, set_id)}",
            "url": f"{base}/order-sets/{set_id}",
            "type": "absolute",
        }
        for set_id in text.links
    ]


def summary(finding: Finding, text: TopicText) -> str:
    """The filled summary; when the record's words make it too long, the variant's ``.short``
    template (which leaves them to the detail), and only as a last resort a cut at a word."""
    variant = finding.summary_variant if finding.summary_variant in text.summaries else "default"
    for name in (variant, f"{variant}.short"):
        template = text.summaries.get(name)
        if template is None:
            continue
        filled = " ".join(_fill(template, finding, escape=False).split())
        if len(filled) <= SUMMARY_MAX:
            return filled
    cut = filled[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,;:-(")
    return cut + "…"


def detail(finding: Finding, history: TherapyHistory, knowledge: Knowledge, now: datetime) -> str:
    text = knowledge.topic(finding.topic)
    parts = [_fill(paragraph, finding, escape=True) for paragraph in text.recommendation]
    hard_stops = [c for c in finding.safety_checks if c.effect is Effect.HARD_STOP]
    if hard_stops:
        parts.insert(
            0,
            "**Hard stop — no IVIG order is drafted:** "
            + "; ".join(md_escape(c.detail) for c in hard_stops)
            + ".",
        )
    if finding.notes:
        parts.append("\n".join(finding.notes))
    sections = [
        "\n\n".join(parts),
        "### Why this card\n\n" + "\n".join(timeline_lines(history, now) + finding_lines(finding)),
        "### Dose arithmetic\n\n" + _arithmetic(finding),
        "### Safety notes\n\n" + _safety_notes(finding, knowledge),
        "### Sources\n\n" + _sources(finding, text, knowledge),
    ]
    return "\n\n".join(sections)


def _arithmetic(finding: Finding) -> str:
    if finding.dose is not None:
        return "\n".join(f"- {line}" for line in finding.dose.arithmetic_lines())
    if finding.topic == "ivig-start":
        return (
            "No dose in grams: there is no usable current weight (see the weight-needed "
            "card). Regimen: 2 g/kg per course over 2-5 days, every 4 weeks."
        )
    if finding.topic == "escalate-after-ivig":
        return "No rituximab dose: a current weight and a height are needed for the BSA."
    return "No dose on this card."


def _safety_notes(finding: Finding, knowledge: Knowledge) -> str:
    checked = finding.texts.get("checked_values")
    if not finding.safety_checks:
        return md_escape(checked) if checked else "None for this card."
    lines = []
    for check in finding.safety_checks:
        check_text = knowledge.texts.safety_checks[check.code]
        line = check_text.text.replace("{detail}", md_escape(check.detail))
        keys = ", ".join(check_text.sources)
        prefix = {Effect.HARD_STOP: "**HARD STOP** ", Effect.WARNING: "**Warning** "}.get(
            check.effect, ""
        )
        lines.append(f"- {prefix}{line} [{keys}]")
    if checked:
        lines.append(f"- {md_escape(checked)}")
    return "\n".join(lines)


def _sources(finding: Finding, text: TopicText, knowledge: Knowledge) -> str:
    keys = list(text.sources)
    for check in finding.safety_checks:
        keys += [key for key in knowledge.texts.safety_checks[check.code].sources]
    keys += [used.source_key for used in finding.thresholds]
    lines = []
    for key in dict.fromkeys(keys):
        if key == DESIGN_DEFAULT:
            continue
        source = knowledge.source(key)
        if source is None:
            continue
        label = md_escape(source.label) + (" (secondary)" if source.secondary else "")
        lines.append(f"- [{key}] {label}" + (f" <{source.url}>" if source.url else ""))
    if any(used.source_key == DESIGN_DEFAULT for used in finding.thresholds):
        lines.append(
            "- Thresholds marked [design default] have no published number: the "
            "default is this service's, reviewable in cards/thresholds.json."
        )
    return "\n".join(lines)


def _fill(template: str, finding: Finding, *, escape: bool) -> str:
    values = {}
    for _, name, _, _ in Formatter().parse(template):
        if name is None:
            continue
        raw = finding.texts.get(name, "")
        values[name] = raw if (not escape or name in MARKDOWN_VALUES) else md_escape(raw)
    return template.format_map(values)


def _order_set_title(knowledge: Knowledge, set_id: str) -> str:
    order_set = knowledge.order_sets.get(set_id)
    title = getattr(order_set, "title", None)
    return str(title) if title else set_id
