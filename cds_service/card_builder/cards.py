"""Findings + knowledge texts -> CDS Hooks 2.0 cards (docs/clinical/card-contract.md).

Every card: ``uuid``, ``summary`` (<= 139 characters, ending on a whole word), ``indicator``,
``detail`` (Markdown, read in ten seconds: the recommendation, then "Why" (the reasons with their
dates), "Dose", "Safety", the therapy so far (on the main card of the response only) and a line of
source keys; no record ids or internal names: those are in the evidence extension),
``source`` with the topic Coding, ``overrideReasons``, absolute ``links`` to the order sets, the
evidence extension, and ``suggestions`` (with ``selectionBehavior``) where the finding asks for
draft orders. Optional fields are omitted, never null or empty. Cards are sorted critical ->
warning -> info, then by the contract's topic order.

Example::

    cards = build_cards(findings, context.history, knowledge, now, "https://x.org", "p1")
    cards[0]["source"]["topic"]["code"]   # "ivig-start"
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from cds_service.card_builder.dose_summary import card_dose_lines
from cds_service.card_builder.evidence import EVIDENCE_KEY, evidence
from cds_service.card_builder.markdown import md_escape
from cds_service.card_builder.reasons import why_lines
from cds_service.card_builder.safety_text import check_detail
from cds_service.card_builder.suggestions import suggestions
from cds_service.card_builder.timeline import timeline_lines
from cds_service.card_builder.wire import Card, Coding, Link, Source
from cds_service.card_builder.wording import checked_values_line, note_lines, template_values
from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.sources import DESIGN_DEFAULT
from cds_service.knowledge.text_contract import MARKDOWN_PLACEHOLDERS
from cds_service.knowledge.texts import TopicText, fill
from cds_service.rules.findings import TOPIC_ORDER, Effect, Finding, Indicator, SafetyCheckResult
from cds_service.rules.scope import ScopeDecision

SUMMARY_MAX = 139
# topics whose card states an IVIG course (dose, safety checks, the results the checks read)
IVIG_COURSE_TOPICS = frozenset({"ivig-start", "ivig-course-due"})
INDICATOR_RANK = {Indicator.CRITICAL: 0, Indicator.WARNING: 1, Indicator.INFO: 2}
WIRE_INDICATORS: dict[Indicator, Literal["info", "warning", "critical"]] = {
    Indicator.INFO: "info",
    Indicator.WARNING: "warning",
    Indicator.CRITICAL: "critical",
}


def build_cards(
    findings: Sequence[Finding],
    history: TherapyHistory,
    knowledge: Knowledge,
    now: datetime,
    public_base_url: str,
    patient_id: str,
    scope: ScopeDecision | None = None,
) -> list[Card]:
    """The cards of `findings`; `scope` names an unconfirmed diagnosis on every card and puts a
    diagnosis that needs checking (read by name, or unconfirmed) in every card's evidence."""
    ordered = sorted(
        findings,
        key=lambda f: (INDICATOR_RANK[indicator(f, knowledge)], TOPIC_ORDER.index(f.topic)),
    )
    main = next((f for f in ordered if f.topic in MAIN_TOPICS), None)
    return [
        build_card(
            f, history, knowledge, now, public_base_url, patient_id, main=f is main, scope=scope
        )
        for f in ordered
    ]


# topics whose card carries the therapy timeline when it is the first of them in a response: the
# timeline is said once
MAIN_TOPICS = frozenset(
    {
        "severe-organ-disease",
        "ivig-start",
        "ivig-course-due",
        "ivig-contraindicated",
        "escalate-after-ivig",
        "first-line-window",
        "ivig-monitoring-due",
    }
)


def indicator(finding: Finding, knowledge: Knowledge) -> Indicator:
    """The indicator card-texts.json gives the finding's topic for the rule's case."""
    return Indicator(knowledge.topic(finding.topic).indicators[finding.indicator_case])


def build_card(
    finding: Finding,
    history: TherapyHistory,
    knowledge: Knowledge,
    now: datetime,
    public_base_url: str,
    patient_id: str,
    *,
    main: bool = False,
    scope: ScopeDecision | None = None,
) -> Card:
    """One card; `main` adds the therapy timeline (said once per response)."""
    text = knowledge.topic(finding.topic)
    values = template_values(finding, knowledge)
    unconfirmed = scope.unconfirmed if scope is not None else None
    card: Card = {
        "uuid": str(uuid.uuid4()),
        "summary": summary(finding, text, values),
        "indicator": WIRE_INDICATORS[indicator(finding, knowledge)],
        "detail": detail(
            finding, history, knowledge, now, values, main=main, unconfirmed=unconfirmed
        ),
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
    links = (*text.links, UNCONFIRMED_ORDER_SET) if unconfirmed else text.links
    if links:
        card["links"] = order_set_links(tuple(dict.fromkeys(links)), knowledge, public_base_url)
    diagnoses = scope.diagnoses if scope is not None and scope.needs_checking else ()
    card["extension"] = {
        EVIDENCE_KEY: evidence(finding, history, tuple(p.source for p in diagnoses))
    }
    return card


# the order set a card links to when the diagnosis is unconfirmed (MRI, biopsy, antibodies)
UNCONFIRMED_ORDER_SET = "jdm-reevaluation"


def _source(finding: Finding, text: TopicText, knowledge: Knowledge) -> Source:
    primary = knowledge.source(text.sources[0])
    topic: Coding = {
        "system": knowledge.texts.topic_system,
        "code": finding.topic,
        "display": text.display,
    }
    label = primary.label if primary else text.sources[0]
    if primary is not None and primary.url:
        return {"label": label, "url": primary.url, "topic": topic}
    return {"label": label, "topic": topic}


def order_set_links(links: Sequence[str], knowledge: Knowledge, public_base_url: str) -> list[Link]:
    """The links to order sets `links` (ids), served under the public base URL."""
    base = public_base_url.rstrip("/")
    return [
        {
            "label": f"Order set: {_order_set_title(knowledge, set_id)}",
            "url": f"{base}/order-sets/{set_id}",
            "type": "absolute",
        }
        for set_id in links
    ]


def summary(finding: Finding, text: TopicText, values: Mapping[str, str]) -> str:
    """The filled summary; when the record's words make it too long, the variant's ``.short``
    template (which leaves them to the detail), and only as a last resort a cut at a word."""
    variant = finding.summary_variant if finding.summary_variant in text.summaries else "default"
    for name in (variant, f"{variant}.short"):
        template = text.summaries.get(name)
        if template is None:
            continue
        filled = " ".join(_fill(template, values, escape=False).split())
        if len(filled) <= SUMMARY_MAX:
            return filled
    cut = filled[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,;:-(")
    return cut + "…"


def detail(
    finding: Finding,
    history: TherapyHistory,
    knowledge: Knowledge,
    now: datetime,
    values: Mapping[str, str],
    *,
    main: bool = False,
    unconfirmed: str | None = None,
) -> str:
    """The card's Markdown detail; an `unconfirmed` diagnosis (its verification status) is named
    first, after only a hard stop."""
    text, texts = knowledge.topic(finding.topic), knowledge.texts
    parts = [_fill(paragraph, values, escape=True) for paragraph in text.recommendation]
    if unconfirmed is not None:
        parts.insert(0, texts.phrase("detail.unconfirmed", status=unconfirmed))
    hard_stops = [c for c in finding.safety_checks if c.effect is Effect.HARD_STOP]
    if hard_stops:
        reasons = "; ".join(md_escape(check_detail(c, texts)) for c in hard_stops)
        parts.insert(0, texts.phrase("detail.hardStop", reasons=reasons))
    notes = note_lines(finding, knowledge)
    if notes:
        parts.append("\n".join(notes))
    why = why_lines(finding, knowledge)
    if why:
        parts.append(_section(texts.phrase("detail.why"), why))
    if finding.dose is not None:
        adult = bool(getattr(finding.subject, "adult", False))
        lines = card_dose_lines(finding.dose, texts, adult=adult)
        parts.append(_section(texts.phrase("detail.dose"), lines))
    elif finding.topic in ("ivig-start", "ivig-course-due") or (
        finding.topic == "escalate-after-ivig" and "pregnancy" not in finding.note_keys
    ):  # in pregnancy rituximab is a specialist's decision: no dose is missing
        parts.append(_no_dose(finding, knowledge))
    safety = _safety_lines(finding, history, knowledge)
    if safety:
        parts.append(_section(texts.phrase("detail.safety"), safety))
    if main:
        parts.append("\n".join(timeline_lines(history, now, knowledge)))
    parts.append(_sources(finding, text, knowledge))
    return "\n\n".join(parts)


def _section(heading: str, lines: Sequence[str]) -> str:
    return heading + "\n\n" + "\n".join(f"- {line}" for line in lines)


def _no_dose(finding: Finding, knowledge: Knowledge) -> str:
    texts = knowledge.texts
    if finding.topic in IVIG_COURSE_TOPICS:
        return texts.phrase("arithmetic.noIvigDose")
    return texts.phrase("arithmetic.noRituximabDose")


def _safety_lines(finding: Finding, history: TherapyHistory, knowledge: Knowledge) -> list[str]:
    """The checks that fired, hard stops and warnings marked, and (on ivig-start) the results
    the checks read, so a clinician sees what was checked. Where IVIG is contraindicated, no
    line about giving it (rates, premedication, after-care)."""
    texts = knowledge.texts
    lines = []
    for check in shown_checks(finding, knowledge):
        check_text = texts.safety_checks[check.code]
        line = fill(check_text.text, {"detail": md_escape(check_detail(check, texts))})
        prefix = {Effect.HARD_STOP: "**HARD STOP** ", Effect.WARNING: "**Warning** "}.get(
            check.effect, ""
        )
        lines.append(f"{prefix}{line}")
    checked = checked_values_line(history, texts) if finding.topic in IVIG_COURSE_TOPICS else None
    if checked is not None:
        lines.append(md_escape(checked))
    return lines


def shown_checks(finding: Finding, knowledge: Knowledge) -> list[SafetyCheckResult]:
    """The safety checks the card shows: all, except where IVIG is contraindicated, where only
    the hard stops and the checks its topic keeps (cards/card-texts.json ``keepSafetyChecks``)
    are shown: the others are about giving IVIG (rates, premedication, after-care)."""
    if finding.topic != "ivig-contraindicated":
        return list(finding.safety_checks)
    kept = knowledge.topic(finding.topic).kept_safety_checks
    return [c for c in finding.safety_checks if c.effect is Effect.HARD_STOP or c.code in kept]


def _sources(finding: Finding, text: TopicText, knowledge: Knowledge) -> str:
    """One line of source keys (sources.json gives each in full; the card's source field
    names the first)."""
    keys = list(text.sources)
    for check in shown_checks(finding, knowledge):
        keys += list(knowledge.texts.safety_checks[check.code].sources)
    keys += list(finding.source_keys)
    shown = [key for key in dict.fromkeys(keys) if key != DESIGN_DEFAULT]
    return knowledge.texts.phrase("detail.sources", keys=", ".join(shown))


def _fill(template: str, values: Mapping[str, str], *, escape: bool) -> str:
    """The template filled; record-derived values are Markdown-escaped in the detail."""
    if escape:
        values = {
            name: value if name in MARKDOWN_PLACEHOLDERS else md_escape(value)
            for name, value in values.items()
        }
    return fill(template, values)


def _order_set_title(knowledge: Knowledge, set_id: str) -> str:
    order_set = knowledge.order_sets.get(set_id)
    title = getattr(order_set, "title", None)
    return str(title) if title else set_id
