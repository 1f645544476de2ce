"""`jdm-cds` command line: one sub-command per module in :mod:`cds_service.commands`.

Each command module exposes ``register(subparsers)``, which adds its parser and sets
``func`` (taking the parsed args, returning an exit code). A new command is one module plus
one line in :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = (
    # "serve", "history", "evaluate", "check-knowledge", "demo" ... added by their modules
    "check_knowledge",
    "demo",
    "demo_token",
    "dose",
    "example_request",
    "evaluate",
    "expand_valuesets",
    "history",
    "serve",
    "settings",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jdm-cds",
        description="CDS Hooks service for refractory juvenile dermatomyositis (IVIG).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"cds_service.commands.{module_name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    exit_code: int = args.func(args)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
