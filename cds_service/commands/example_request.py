"""`jdm-cds example-request [SCENARIO]`: a ready-to-send patient-view request, dated to today.

Prints one of the clinical scenarios under ``fhir_fixtures/scenarios/`` (default: the seed case)
as a CDS Hooks request with full prefetch, every date moved by whole days so the record stands
relative to today as it stood relative to the fixtures' clock, and a fresh ``hookInstance``. Pipe
it to curl against ``make run``; no FHIR server is needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from cds_service.commands.demo import shift_delta
from cds_service.commands.timeshift import shift_resources
from cds_service.config import REPO_ROOT

SCENARIOS_DIR = REPO_ROOT / "fhir_fixtures" / "scenarios"
DEFAULT_SCENARIO = "in-seed-case"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "example-request",
        help="print a patient-view request (full prefetch) for a fixture patient, dated to today",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        default=DEFAULT_SCENARIO,
        help=f"a folder name under fhir_fixtures/scenarios/ (default: {DEFAULT_SCENARIO})",
    )
    parser.set_defaults(func=run)


def example_request(scenario: str, today: datetime) -> dict[str, Any]:
    """The scenario's request.json, shifted from the fixtures' clock to `today`."""
    path = SCENARIOS_DIR / scenario / "request.json"
    if path.parent.parent != SCENARIOS_DIR or not path.is_file():
        raise FileNotFoundError(f"no scenario named {scenario!r} under {SCENARIOS_DIR}")
    request: dict[str, Any] = shift_resources(json.loads(path.read_text()), shift_delta(today))
    request["hookInstance"] = str(uuid.uuid4())
    return request


def run(args: argparse.Namespace) -> int:
    try:
        request = example_request(args.scenario, datetime.now(UTC))
    except FileNotFoundError as error:
        sys.stderr.write(f"jdm-cds example-request: {error}\n")
        return 2
    sys.stdout.write(json.dumps(request, indent=1) + "\n")
    return 0
