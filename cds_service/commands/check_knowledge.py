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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = args.dir if args.dir is not None else Path(Settings().knowledge_dir)
    try:
        knowledge = load_knowledge(root)
    except KnowledgeError as error:
        sys.stderr.write(f"knowledge base INVALID: {error}\n")
        return 1
    sys.stdout.write(summary(knowledge))
    return 0


def summary(knowledge: Knowledge) -> str:
    design_defaults = sorted(
        name for name, t in knowledge.thresholds.items() if t.source == DESIGN_DEFAULT
    )
    lines = [
        f"knowledge base OK: {knowledge.root}",
        f"  value sets:    {len(knowledge.terminology.concept_ids())}",
        f"  order sets:    {len(knowledge.order_sets)} ({', '.join(sorted(knowledge.order_sets))})",
        f"  sources:       {len(knowledge.sources)}",
        f"  thresholds:    {len(knowledge.thresholds)} "
        f"({len(design_defaults)} design defaults: {', '.join(design_defaults)})",
        f"  card topics:   {len(knowledge.texts.topics)}",
        f"  safety checks: {len(knowledge.texts.safety_checks)}",
        f"  dosing:        IVIG {knowledge.dosing.ivig.g_per_kg_per_course.value} g/kg per course, "
        f"cap {knowledge.dosing.ivig.cap_g_per_course.value} g",
    ]
    return "\n".join(lines) + "\n"
