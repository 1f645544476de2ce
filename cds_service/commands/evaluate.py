"""`jdm-cds evaluate FILE.json [--patient ID] [--now TIME] [--json]`: the cards for a record.

FILE is a FHIR Bundle (any type), a resource, a JSON list of them, or a CDS Hooks request with
prefetch. The record goes through exactly the pipeline a hook call uses (same knowledge, same
rules) with the clock you give, and the cards are printed as a clinician would read them: the
indicator and summary, the detail (the recommendation, why, the dose, safety, the therapy so far,
the sources), the evidence the rule read (facts with their records, thresholds with their source
keys), the suggested orders and the links. ``--json`` prints the CDS Hooks response body instead.

    jdm-cds evaluate fhir_fixtures/patients/seed-case.bundle.json --now 2026-03-15T10:00:00+13:00
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cds_service.card_builder.evidence import EVIDENCE_KEY
from cds_service.commands.history import (
    CommandError,
    add_clock_arguments,
    only_patient_id,
    parse_clock,
    read_fhir_file,
)
from cds_service.config import REPO_ROOT
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.loader import load_knowledge
from cds_service.pipeline import Evaluation, evaluate

INDENT = "    "
MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="print the cards the service gives for a FHIR record",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="Bundle / resource / list / CDS Hooks request")
    parser.add_argument("--patient", help="patient id (default: the request's or the only one)")
    add_clock_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the CDS Hooks response")
    parser.add_argument(
        "--knowledge-dir", type=Path, default=REPO_ROOT / "cards", help="default: cards/"
    )
    parser.add_argument(
        "--base-url",
        default="http://127.0.0.1:8080",
        help="the service's public URL, for order-set links (default: the local one)",
    )
    parser.set_defaults(func=run)


def record_of(document: list[Any]) -> tuple[list[Any], str | None]:
    """The raw FHIR values to evaluate, and the request's patient id when it is a hook request."""
    if len(document) == 1 and isinstance(document[0], dict) and "hook" in document[0]:
        request = document[0]
        prefetch = request.get("prefetch") or {}
        values = [value for value in prefetch.values() if isinstance(value, dict)]
        patient_id = (request.get("context") or {}).get("patientId")
        if not values:
            raise CommandError("the request carries no prefetch: nothing to evaluate")
        return values, patient_id if isinstance(patient_id, str) else None
    return document, None


def run(args: argparse.Namespace) -> int:
    try:
        values, request_patient = record_of(read_fhir_file(args.file))
        now = parse_clock(args.now, args.tz)
        patient_id = args.patient or request_patient or only_patient_id(values)
        knowledge = load_knowledge(args.knowledge_dir)
    except (CommandError, KnowledgeError) as exc:
        sys.stderr.write(f"jdm-cds evaluate: {exc}\n")
        return 2
    evaluation = evaluate(
        values, patient_id, knowledge, now,
        public_base_url=args.base_url,
    )  # fmt: skip
    if args.json:
        sys.stdout.write(json.dumps({"cards": evaluation.cards}, indent=2) + "\n")
    else:
        sys.stdout.write(render(evaluation, patient_id, now.isoformat()))
    return 0


def render(evaluation: Evaluation, patient_id: str, now_text: str) -> str:
    """The cards as plain text, most urgent first (the order the service returns them)."""
    lines = [f"Patient/{patient_id} at {now_text}"]
    in_scope = evaluation.extra.get("inScope")
    if in_scope is not None:
        reason = evaluation.extra.get("scopeReason", "")
        lines.append(f"In scope: {'yes' if in_scope else 'no'} ({reason})")
    count = len(evaluation.cards)
    lines.append(f"{count} card{'s' if count != 1 else ''}")
    for number, card in enumerate(evaluation.cards, start=1):
        lines += ["", "=" * 78, *_card_lines(number, card)]
    return "\n".join(lines) + "\n"


def _card_lines(number: int, card: Mapping[str, Any]) -> list[str]:
    source = card.get("source", {})
    topic = source.get("topic", {})
    lines = [
        f"{number}. [{str(card.get('indicator', '')).upper()}] {card.get('summary', '')}",
        f"{INDENT}topic: {topic.get('code', '-')} ({topic.get('display', '')})",
        f"{INDENT}source: {source.get('label', '')}",
        "",
    ]
    for paragraph in _unescape(str(card.get("detail", ""))).splitlines():
        lines.append(_wrap(paragraph) if paragraph.strip() else "")
    lines += _evidence_lines(card.get("extension", {}).get(EVIDENCE_KEY, {}))
    lines += _suggestion_lines(card.get("suggestions", []))
    links = card.get("links", [])
    if links:
        lines += ["", f"{INDENT}Links:"]
        lines += [f"{INDENT}- {link.get('label')}: {link.get('url')}" for link in links]
    reasons = card.get("overrideReasons", [])
    if reasons:
        shown = "; ".join(str(reason.get("display")) for reason in reasons)
        lines += ["", _wrap(f"Override reasons: {shown}")]
    return lines


def _evidence_lines(evidence: Mapping[str, Any]) -> list[str]:
    """What the rule read, as the evidence extension holds it (record ids and key names are for
    the engineer here, never in the card's text)."""
    facts, thresholds = evidence.get("facts", []), evidence.get("thresholds", [])
    if not facts and not thresholds:
        return []
    lines = ["", f"{INDENT}Evidence:"]
    for fact in facts:
        unit = f" {fact['unit']}" if fact.get("unit") else ""
        at = f" ({str(fact['at'])[:10]})" if fact.get("at") else ""
        source = f" - {fact['source']}" if fact.get("source") else ""
        lines.append(f"{INDENT}- {fact.get('name')}: {fact.get('value')}{unit}{at}{source}")
    for limit in thresholds:
        lines.append(
            f"{INDENT}- threshold {limit.get('name')}: {limit.get('comparison')} "
            f"{limit.get('value')} {limit.get('unit', '')} [{limit.get('sourceKey')}]".rstrip()
        )
    return lines


def _suggestion_lines(suggestions: Sequence[Mapping[str, Any]]) -> list[str]:
    if not suggestions:
        return []
    lines = ["", f"{INDENT}Suggestions:"]
    for suggestion in suggestions:
        recommended = " (recommended)" if suggestion.get("isRecommended") else ""
        lines.append(f"{INDENT}- {suggestion.get('label')}{recommended}")
        for action in suggestion.get("actions", []):
            kind = action.get("resource", {}).get("resourceType", "")
            lines.append(f"{INDENT}    {action.get('type')} {kind}: {action.get('description')}")
    return lines


def _unescape(markdown: str) -> str:
    """Drop Markdown's backslash escapes (``weight\\_kg``): a terminal shows them literally."""
    return MARKDOWN_ESCAPE.sub(r"\1", markdown)


def _wrap(text: str) -> str:
    stripped = text.lstrip()
    hanging = INDENT + " " * (len(text) - len(stripped) + (2 if stripped[:2] == "- " else 0))
    return textwrap.fill(
        stripped,
        width=100,
        initial_indent=INDENT + " " * (len(text) - len(stripped)),
        subsequent_indent=hanging,
        break_long_words=False,
        break_on_hyphens=False,
    )
