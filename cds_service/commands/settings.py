"""`jdm-cds settings`: every ``CDS_*`` setting with its default, as the README's Markdown table."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cds_service.config import settings_table


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("settings", help="Print the settings table (Markdown).")
    parser.set_defaults(func=run)


def markdown_table() -> str:
    """The table the README holds between its settings-table markers."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, default, doc in settings_table():
        shown = f"`{default}`" if default else "(empty)"
        lines.append(f"| `{name}` | {shown} | {doc.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(markdown_table())
    return 0
