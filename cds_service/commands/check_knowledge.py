"""`jdm-cds check-knowledge [--dir DIR]`: validate the knowledge base as startup does.

Exit 0 with a one-screen summary when every file is valid; exit 1 with the file and field of the
first fault otherwise (the same
:class:`~cds_service.knowledge.loader.KnowledgeError` that stops startup).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cds_service.config import Settings
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.loader import Knowledge, load_knowledge
from cds_service.knowledge.sources import DESIGN_DEFAULT


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check-knowledge", help="Validate the clinical knowledge base (cards/)."
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="knowledge folder (default: the knowledge_dir setting, i.e. <repo>/cards)",
    )
    parser.add_argument(
        "--sources", action="store_true", help="also list every source and what cites it"
    )
    parser.add_argument(
        "--codes", action="store_true", help="also list every value-set code, its status and source"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = args.dir if args.dir is not None else Path(Settings().knowledge_dir)
    try:
        knowledge = load_knowledge(root)
    except KnowledgeError as error:
        sys.stderr.write(f"knowledge base INVALID: {error}\n")
        return 1
    sys.stdout.write(summary(knowledge))
    if args.sources:
        sys.stdout.write(source_index(knowledge))
    if args.codes:
        sys.stdout.write(code_listing(knowledge))
    return 0


def summary(knowledge: Knowledge) -> str:
    design_defaults = sorted(
        name for name, t in knowledge.thresholds.items() if t.source == DESIGN_DEFAULT
    )
    codes = [
        e for c in knowledge.terminology.concept_ids() for e in knowledge.terminology.info(c).codes
    ]
    unverified = sum(1 for entry in codes if not entry.verified)
    lines = [
        f"knowledge base OK: {knowledge.root}",
        f"  value sets:    {len(knowledge.terminology.concept_ids())} "
        f"({len(codes)} codes, {unverified} unverified)",
        f"  order sets:    {len(knowledge.order_sets)} ({', '.join(sorted(knowledge.order_sets))})",
        f"  sources:       {len(knowledge.sources)}",
        f"  thresholds:    {len(knowledge.thresholds)} "
        f"({len(design_defaults)} design defaults: {', '.join(design_defaults)})",
        f"  card topics:   {len(knowledge.texts.topics)}",
        f"  safety checks: {len(knowledge.texts.safety_checks)}",
        f"  dosing:        version {knowledge.dosing.version} ({knowledge.dosing.status}): "
        f"IVIG {knowledge.dosing.ivig.g_per_kg_per_course.value} g/kg per course, "
        f"cap {knowledge.dosing.ivig.cap_g_per_course.value} g",
    ]
    return "\n".join(lines) + "\n"


def source_index(knowledge: Knowledge) -> str:
    """Every source with its citation and the fields that cite it, for a reviewer."""
    lines = ["sources and what cites them:"]
    for key, source in knowledge.sources.items():
        secondary = " (secondary)" if source.secondary else ""
        lines.append(
            f"  [{key}] {source.label}{secondary}" + (f" <{source.url}>" if source.url else "")
        )
        lines += [f"      {place}" for place in knowledge.citations[key]]
    return "\n".join(lines) + "\n"


def code_listing(knowledge: Knowledge) -> str:
    """Every code of every value set: status, what it is, where it was seen (for a reviewer)."""
    terminology = knowledge.terminology
    lines = ["value-set codes (status, product form, source):"]
    for concept in terminology.concept_ids():
        info = terminology.info(concept)
        words = ", ".join(info.names) or "-"
        excluded = ", ".join(info.excludes) or "-"
        lines.append(
            f"  {concept} ({info.kind}; {', '.join(sorted(info.resource_types))}): "
            f"{info.title}; names: {words}; not: {excluded}"
        )
        for entry in info.codes:
            status = "VERIFIED" if entry.verified else "UNVERIFIED"
            form = f" [{entry.dose_form or 'product'}]" if entry.product else ""
            ingredient = f" ({entry.ingredient})" if entry.ingredient else ""
            lines.append(
                f"    {status} {entry.token} {entry.display}{form}{ingredient}: {entry.source}"
            )
    return "\n".join(lines) + "\n"
