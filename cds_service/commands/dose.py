"""`jdm-cds dose ivig|rituximab ...`: the dose arithmetic for given numbers, as the cards show it.

For pharmacists and the pharmacy and therapeutics committee: check a policy edit in
``cards/dosing.json`` (``--dir``: a whole knowledge folder) against worked examples without
building a patient record::

    jdm-cds dose ivig --weight 26
    jdm-cds dose ivig --weight 50 --height 140 --sex female --birth-date 2016-03-01 --five-day
    jdm-cds dose rituximab --weight 30 --height 130 --json

The numbers are not stored or logged; the measurement date is today unless ``--date`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from cds_service.card_builder.dose_text import ivig_arithmetic_lines, rituximab_arithmetic_lines
from cds_service.config import Settings
from cds_service.dosing import bmi_inputs_for_dose, ivig_course_dose, rituximab_dose
from cds_service.history.model import Measurement, SourceRef
from cds_service.knowledge.concepts import MeasurementConcept
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.loader import Knowledge, load_knowledge


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dose", help="Show the IVIG or rituximab dose arithmetic.")
    parser.add_argument("agent", choices=("ivig", "rituximab"))
    parser.add_argument("--weight", type=_decimal, required=True, help="weight in kg")
    parser.add_argument("--height", type=_decimal, help="height in cm (BSA, BMI centile)")
    parser.add_argument("--sex", choices=("male", "female"), help="for the BMI centile")
    parser.add_argument("--birth-date", type=date.fromisoformat, help="YYYY-MM-DD, for BMI")
    parser.add_argument("--date", type=date.fromisoformat, help="measurement date (today)")
    parser.add_argument("--five-day", action="store_true", help="renal/thrombosis/fluid risk")
    parser.add_argument("--slow-rate", action="store_true", help="renal or thrombotic risk")
    parser.add_argument("--json", action="store_true", help="print the evidence dose object")
    parser.add_argument("--dir", type=Path, default=None, help="knowledge folder (cards/)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = args.dir if args.dir is not None else Path(Settings().knowledge_dir)
    try:
        knowledge = load_knowledge(root)
    except KnowledgeError as error:
        sys.stderr.write(f"knowledge INVALID: {error}\n")
        return 1
    measured_on = args.date or datetime.now(UTC).date()
    at = datetime.combine(measured_on, time(12, 0), tzinfo=UTC)
    weight = _measurement("weight", args.weight, "kg", at)
    height = _measurement("height", args.height, "cm", at) if args.height else None
    try:
        lines, evidence = _compute(args, knowledge, weight, height)
    except ValueError as error:
        sys.stderr.write(f"no dose: {error}\n")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(evidence, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _compute(
    args: argparse.Namespace,
    knowledge: Knowledge,
    weight: Measurement,
    height: Measurement | None,
) -> tuple[list[str], dict[str, Any]]:
    policy = knowledge.dosing
    if args.agent == "rituximab":
        dose = rituximab_dose(policy, weight=weight, height=height)
        if dose is None:
            raise ValueError("rituximab needs --weight and --height (BSA)")
        return rituximab_arithmetic_lines(dose, knowledge.texts), dose.evidence()
    centile = p50 = None
    if height is not None and args.birth_date is not None:
        centile, p50 = bmi_inputs_for_dose(
            weight=weight, height=height, birth_date=args.birth_date, sex=args.sex, policy=policy
        )
    ivig = ivig_course_dose(
        weight,
        policy,
        risk_5_day=args.five_day,
        risk_slow_rate=args.slow_rate,
        height=height,
        bmi_centile=centile,
        bmi_p50_kg_m2=p50,
    )
    return ivig_arithmetic_lines(ivig, knowledge.texts), ivig.evidence()


def _measurement(
    concept: MeasurementConcept, value: Decimal, unit: str, at: datetime
) -> Measurement:
    return Measurement(
        concept=concept,
        value=value,
        unit=unit,
        at=at,
        status="final",
        reference_low=None,
        reference_high=None,
        original=f"{value} {unit}",
        source=SourceRef("Observation", f"cli-{concept}"),
    )


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value
