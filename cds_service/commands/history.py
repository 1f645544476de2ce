"""`jdm-cds history BUNDLE.json [--patient ID] [--now TIME] [--json]`: what the service understood.

Reads a FHIR JSON file (a Bundle of any type, a single resource, or a JSON list of them), builds
the therapy history exactly as a hook call would, and prints it as a readable timeline (or, with
``--json``, as the stable JSON used by the golden files).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cds_service.config import REPO_ROOT, Settings, SettingsError
from cds_service.gather.limits import json_depth
from cds_service.history.render import render_history
from cds_service.history.to_json import history_to_json
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.loader import load_knowledge
from cds_service.pipeline import history_of


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="print the therapy history the service builds from a FHIR bundle",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bundle", type=Path, help="FHIR JSON file (Bundle, resource or list)")
    parser.add_argument("--patient", help="patient id (default: the only Patient in the file)")
    add_clock_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the history as JSON")
    parser.add_argument(
        "--knowledge-dir",
        type=Path,
        default=REPO_ROOT / "cards",
        help="folder holding valuesets/ (default: the repository's cards/)",
    )
    parser.set_defaults(func=run)


def add_clock_arguments(parser: argparse.ArgumentParser) -> None:
    """``--now`` and ``--tz``, read by :func:`parse_clock` (shared by history and evaluate)."""
    parser.add_argument(
        "--now",
        help="the clock, ISO 8601 with an offset (e.g. 2026-03-15T10:00:00+13:00); "
        "default: the current time",
    )
    parser.add_argument(
        "--tz",
        help="IANA time zone of the clock (e.g. Pacific/Auckland): dates without a time become "
        "midnight there; default: the offset of --now (or the local zone)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        raw = read_fhir_file(args.bundle)
        now = parse_clock(args.now, args.tz)
        patient_id = args.patient or only_patient_id(raw)
        knowledge = load_knowledge(args.knowledge_dir)
    except (CommandError, KnowledgeError) as exc:
        sys.stderr.write(f"jdm-cds history: {exc}\n")
        return 2
    history = history_of(raw, patient_id, knowledge, now)
    if args.json:
        sys.stdout.write(json.dumps(history_to_json(history), indent=2, sort_keys=True) + "\n")
    else:
        sys.stdout.write(render_history(history))
    return 0


class CommandError(ValueError):
    """Bad command-line input; the message says what to fix."""


def read_fhir_file(path: Path) -> list[Any]:
    """The file's JSON as a list of values, held to the service's JSON depth limit."""
    try:
        max_depth = Settings.from_env(os.environ).max_json_depth
    except SettingsError as exc:
        raise CommandError(str(exc)) from exc
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CommandError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CommandError(f"{path}: not a JSON file ({type(exc).__name__})") from exc
    if json_depth(document, stop_above=max_depth) > max_depth:
        raise CommandError(
            f"{path}: JSON nests deeper than {max_depth} levels (CDS_MAX_JSON_DEPTH), as a "
            "request body may not"
        )
    return document if isinstance(document, list) else [document]


def parse_clock(text: str | None, zone_name: str | None) -> datetime:
    zone = None
    if zone_name:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CommandError(f"--tz {zone_name!r} is not a known time zone") from exc
    if text is None:
        now = datetime.now(UTC)
        return now.astimezone(zone) if zone else now.astimezone()
    try:
        now = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--now {text!r} is not an ISO 8601 time") from exc
    if now.tzinfo is None:
        raise CommandError(f"--now {text!r} needs an offset, e.g. {text}+13:00")
    return now.astimezone(zone) if zone else now


def only_patient_id(raw: list[Any]) -> str:
    ids: set[str] = set()
    for item in raw:
        entries = item.get("entry", []) if isinstance(item, dict) else []
        resources = [e.get("resource") for e in entries if isinstance(e, dict)] or [item]
        for resource in resources:
            if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
                if isinstance(resource.get("id"), str):
                    ids.add(resource["id"])
    if len(ids) != 1:
        found = "no Patient" if not ids else f"{len(ids)} patients"
        raise CommandError(f"the file holds {found}; say which with --patient ID")
    return ids.pop()
