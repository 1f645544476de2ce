"""`jdm-cds expand-valuesets [--check] [--dir DIR]`: write each value set's expansion from its
compose, so the two are never edited by hand.

Edit ``compose.include`` (and the ValueSet's ``date``), then run this; ``--check`` exits 1 and
names the files whose expansion is out of date, changing nothing (CI and the loader refuse them).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cds_service.config import Settings
from cds_service.knowledge.expansion import expansion_for


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "expand-valuesets", help="Write each value set's expansion from its compose."
    )
    parser.add_argument("--check", action="store_true", help="only report; change nothing")
    parser.add_argument("--dir", type=Path, default=None, help="knowledge folder (cards/)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = args.dir if args.dir is not None else Path(Settings().knowledge_dir)
    stale = []
    for path in sorted((root / "valuesets").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        expansion = expansion_for(document)
        if document.get("expansion") == expansion:
            continue
        stale.append(path)
        if not args.check:
            document["expansion"] = expansion
            path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    verb = "out of date" if args.check else "rewritten"
    for path in stale:
        sys.stdout.write(f"{path}: expansion {verb}\n")
    sys.stdout.write(f"{len(stale)} value set(s) {verb}\n")
    return 1 if args.check and stale else 0
