"""Order findings -> one CDS Hooks card per order (docs/clinical/order-checks.md, "Shape").

The card's topic, indicator and summary are those of its worst finding (critical before warning
before info, then the topic order of the contract); the detail holds every finding's paragraph,
then the sources. Suggestions: an ``update`` action carrying the corrected MedicationRequest under
the draft's own id, and for the frequency error a ``delete`` beside it (``at-most-one``).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from cds_service.card_builder.cards import (
    INDICATOR_RANK,
    SUMMARY_MAX,
    UNCONFIRMED_ORDER_SET,
    WIRE_INDICATORS,
    order_set_links,
)
from cds_service.card_builder.drafts import UCUM, json_number
from cds_service.card_builder.evidence import EVIDENCE_KEY
from cds_service.card_builder.markdown import md_escape
from cds_service.card_builder.wire import Action, Card, Coding, Evidence, Suggestion
from cds_service.card_builder.wording import weight_texts
from cds_service.dosing.figures import plain
from cds_service.history.model import SourceRef
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.sources import DESIGN_DEFAULT
from cds_service.knowledge.text_contract import ORDER_TOPICS
from cds_service.knowledge.texts import fill
from cds_service.orders.findings import Correction, OrderFinding
from cds_service.orders.read import OrderReading
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Indicator

RULE_ID = "order_checks"
# values already written as Markdown by the checks (built from card-texts phrases)
MARKDOWN_VALUES = frozenset({"finding", "once_weekly"})


def indicator_of(finding: OrderFinding, knowledge: Knowledge) -> Indicator:
    return Indicator(knowledge.topic(finding.topic).indicators[finding.case])


def order_card(
    order: OrderReading,
    findings: Sequence[OrderFinding],
    context: ClinicalContext,
    knowledge: Knowledge,
    public_base_url: str | None = None,
) -> Card:
    """The card of one order. While JDM is recorded only as provisional, differential or
    unconfirmed, it says so as every patient-view card does (decision-model.md §0): the line
    first, after only a critical finding (what must stop the order is read first), the
    re-evaluation order set linked, the diagnosis in the evidence."""
    ordered = sorted(
        findings,
        key=lambda f: (INDICATOR_RANK[indicator_of(f, knowledge)], ORDER_TOPICS.index(f.topic)),
    )
    hard_stop = any(_hard_stop(f) for f in ordered)
    primary = ordered[0]
    all_values = [_values(f, context, knowledge) for f in ordered]
    text = knowledge.topic(primary.topic)
    card: Card = {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(primary, all_values[0], knowledge),
        "indicator": WIRE_INDICATORS[indicator_of(primary, knowledge)],
        "detail": _detail(ordered, all_values, knowledge, context.scope.unconfirmed),
        "source": {
            "label": _source_label(text.sources[0], knowledge),
            "topic": {
                "system": knowledge.texts.topic_system,
                "code": primary.topic,
                "display": text.display,
            },
        },
    }
    url = _source_url(text.sources[0], knowledge)
    if url:
        card["source"]["url"] = url
    offered = [] if hard_stop else _suggestions(order, ordered, knowledge)
    if offered:
        card["suggestions"] = offered
        card["selectionBehavior"] = "at-most-one"
    reasons: dict[str, Coding] = {
        r.code: {
            "system": knowledge.texts.override_reason_system,
            "code": r.code,
            "display": r.display,
        }
        for f in ordered
        for r in knowledge.topic(f.topic).override_reasons
    }
    if reasons:
        card["overrideReasons"] = list(reasons.values())
    if context.scope.unconfirmed is not None and public_base_url is not None:
        card["links"] = order_set_links((UNCONFIRMED_ORDER_SET,), knowledge, public_base_url)
    scope = context.scope
    diagnoses = tuple(p.source for p in scope.diagnoses) if scope.needs_checking else ()
    card["extension"] = {EVIDENCE_KEY: _evidence(order, ordered, diagnoses)}
    return card


def _values(
    finding: OrderFinding, context: ClinicalContext, knowledge: Knowledge
) -> dict[str, str]:
    values = dict(finding.values)
    if finding.topic == "order-weight-needed":
        texts = knowledge.texts
        if context.weight.usable:  # the weight is fine; the height is missing
            problem, detail = texts.phrase("order.heightMissing"), ""
        else:
            problem, detail = weight_texts(context.weight, texts)
        needs_bsa = any(t in ("order-mtx-dose", "order-rituximab-dose") for t in finding.blocked)
        values |= {
            "weight_problem": problem,
            "weight_detail": detail,
            "height_too": texts.phrase("order.heightToo") if needs_bsa else "",
            "checks": ", ".join(knowledge.topic(t).display for t in finding.blocked),
        }
    return values


def _summary(finding: OrderFinding, values: Mapping[str, str], knowledge: Knowledge) -> str:
    summaries = knowledge.topic(finding.topic).summaries
    filled = ""
    for name in (finding.variant, f"{finding.variant}.short"):
        template = summaries.get(name)
        if template is None:
            continue
        filled = " ".join(fill(template, values).split())
        if len(filled) <= SUMMARY_MAX:
            return filled
    return filled[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,;:-(") + "…"


def _detail(
    findings: Sequence[OrderFinding],
    values: Sequence[Mapping[str, str]],
    knowledge: Knowledge,
    unconfirmed: str | None = None,
) -> str:
    """Every finding's paragraphs, then the sources; an `unconfirmed` diagnosis (its
    verification status) is named first, after only the paragraphs of a critical finding (a
    hard stop, methotrexate ordered more often than weekly)."""
    parts: list[str] = []
    line_at = 0
    for finding, filled in zip(findings, values, strict=True):
        text = knowledge.topic(finding.topic)
        escaped = {
            name: value if name in MARKDOWN_VALUES else md_escape(value)
            for name, value in filled.items()
        }
        for paragraph in text.recommendation:
            parts.append(" ".join(fill(paragraph, escaped).split(" ")).strip())
        parts += [text.notes[key] for key in finding.note_keys]
        if finding is findings[0] and indicator_of(finding, knowledge) is Indicator.CRITICAL:
            line_at = len(parts)
    if unconfirmed is not None:
        parts.insert(line_at, knowledge.texts.phrase("detail.unconfirmed", status=unconfirmed))
    return "\n\n".join([*parts, _sources(findings, knowledge)])


def _hard_stop(finding: OrderFinding) -> bool:
    return finding.topic == "order-ivig-safety" and finding.case == "hardStop"


def _sources(findings: Sequence[OrderFinding], knowledge: Knowledge) -> str:
    """One line of source keys, as on every card (sources.json gives each in full)."""
    keys: list[str] = []
    for finding in findings:
        keys += knowledge.topic(finding.topic).sources
        for check in finding.safety_checks:
            keys += knowledge.texts.safety_checks[check.code].sources
        keys += [used.source_key for used in finding.thresholds]
    shown = [k for k in dict.fromkeys(keys) if k != DESIGN_DEFAULT and knowledge.source(k)]
    return knowledge.texts.phrase("detail.sources", keys=", ".join(shown))


def _source_label(key: str, knowledge: Knowledge) -> str:
    source = knowledge.source(key)
    return source.label if source is not None else key


def _source_url(key: str, knowledge: Knowledge) -> str | None:
    source = knowledge.source(key)
    return source.url if source is not None and source.url else None


# --- suggestions --------------------------------------------------------------------------------


def _suggestions(
    order: OrderReading, findings: Sequence[OrderFinding], knowledge: Knowledge
) -> list[Suggestion]:
    texts = knowledge.texts
    correction = merged_correction(findings)
    offered: list[Suggestion] = []
    if correction is not None:
        change = _change_words(correction, knowledge)
        label = texts.phrase("order.suggest.update", change=change)
        action: Action = {
            "type": "update",
            "description": label,
            "resource": corrected_order(order.order, correction),
        }
        offered.append(
            {"label": label, "uuid": str(uuid.uuid4()), "isRecommended": True, "actions": [action]}
        )
    if any(f.delete for f in findings) and order.order_id is not None:
        label = texts.phrase("order.suggest.delete")
        offered.append(
            {
                "label": label,
                "uuid": str(uuid.uuid4()),
                "actions": [
                    {
                        "type": "delete",
                        "description": label,
                        "resourceId": [f"MedicationRequest/{order.order_id}"],
                    }
                ],
            }
        )
    return offered


def merged_correction(findings: Sequence[OrderFinding]) -> Correction | None:
    """One correction from every finding's: the first dose and the first schedule proposed."""
    corrections = [f.correction for f in findings if f.correction is not None]
    if not corrections:
        return None
    dose = next((c for c in corrections if c.dose_value is not None), None)
    repeat = next((c.repeat for c in corrections if c.repeat is not None), None)
    return Correction(dose.dose_value if dose else None, dose.dose_unit if dose else None, repeat)


def corrected_order(draft: Mapping[str, Any], correction: Correction) -> dict[str, Any]:
    """The draft with the dose and/or schedule corrected; its id and everything else kept."""
    resource = copy.deepcopy(dict(draft))
    dosages = resource.get("dosageInstruction")
    if not isinstance(dosages, list) or not dosages or not isinstance(dosages[0], dict):
        dosages = [{}]
    first = dict(dosages[0])
    first.pop("text", None)  # the words of the old dose or schedule would contradict the new
    if correction.repeat is not None:
        old = (first.get("timing") or {}).get("repeat") or {}
        kept = {k: v for k, v in old.items() if k.startswith("bounds")}
        if old.get("count") is not None and old.get("periodUnit") == correction.repeat.get(
            "periodUnit"
        ):  # the same schedule's number of doses (3 daily pulses) stays
            kept["count"] = old["count"]
        first["timing"] = {"repeat": kept | dict(correction.repeat)}
    if correction.dose_value is not None and correction.dose_unit is not None:
        first["doseAndRate"] = [
            {
                "doseQuantity": {
                    "value": json_number(correction.dose_value),
                    "unit": correction.dose_unit,
                    "system": UCUM,
                    "code": correction.dose_unit,
                }
            }
        ]
    resource["dosageInstruction"] = [first]
    return resource


def _change_words(correction: Correction, knowledge: Knowledge) -> str:
    texts = knowledge.texts
    words = []
    if correction.dose_value is not None:
        words.append(f"{plain(correction.dose_value)} {correction.dose_unit}")
    repeat = correction.repeat or {}
    if repeat.get("periodUnit") == "wk":
        words.append(texts.phrase("order.schedule.weekly"))
    elif repeat.get("periodUnit") == "d":
        words.append(texts.phrase("order.schedule.daily"))
        if repeat.get("count"):
            words.append(f"x {repeat['count']} d")
    return " ".join(words)


# --- evidence -----------------------------------------------------------------------------------


def _evidence(
    order: OrderReading, findings: Sequence[OrderFinding], diagnoses: Sequence[SourceRef] = ()
) -> Evidence:
    """`diagnoses`: the Conditions of a diagnosis that needs checking (unconfirmed, or read by
    name), among the resources as on every patient-view card."""
    refs = {f"MedicationRequest/{order.order_id}"} if order.order_id else set()
    refs.update(ref.reference for ref in diagnoses)
    for finding in findings:
        refs.update(ref.reference for ref in finding.resources)
        refs.update(f.source.reference for f in finding.facts if f.source is not None)
    facts: dict[tuple[str, str], Any] = {}
    thresholds: dict[str, Any] = {}
    for finding in findings:
        for fact in finding.facts:
            item: dict[str, Any] = {"name": fact.name, "value": fact.value}
            if fact.unit:
                item["unit"] = fact.unit
            if fact.at is not None:
                item["at"] = fact.at.isoformat()
            if fact.source is not None:
                item["source"] = fact.source.reference
            facts.setdefault((fact.name, fact.value), item)
        for used in finding.thresholds:
            thresholds.setdefault(
                used.name,
                {
                    "name": used.name,
                    "value": format(used.value, "f"),
                    "unit": used.unit,
                    "comparison": used.comparison,
                    "sourceKey": used.source_key,
                },
            )
    order_facts: dict[str, Any] = {
        "agent": order.agent,
        "findings": [{"topic": f.topic, "case": f.case} for f in findings],
    }
    if order.order_id:
        order_facts["id"] = f"MedicationRequest/{order.order_id}"
    return {
        "topic": findings[0].topic,
        "ruleId": RULE_ID,
        "resources": sorted(refs),
        "facts": list(facts.values()),
        "thresholds": list(thresholds.values()),
        "order": order_facts,
    }
