"""Figures for what keeps one bad neighbour from hurting everyone else (printed, not asserted).

``jwks``: a hanging JWKS of one issuer plus 20 clients with tokens naming it, while another
issuer's valid hook calls run against the production server (bench/jwks_outage.py). Target:
the valid calls' p99 <= 1 s.

``summary``: 40,000 distinct override reason codes stored (each offered on its own issued card
and given back as feedback), then ``GET /cds-services/jdm-ivig/feedback/summary`` timed
(bench/summary_scale.py). Target: <= 200 ms.

    python -m bench.boundaries jwks --duration 30          # from the repository root
    python -m bench.boundaries summary --codes 40000
    python -m bench.boundaries all

Prints each result as a table (``--json``: one JSON object per line). Exit 1 when a run
missed its target.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import jwks_outage, summary_scale


def run_jwks(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    with tempfile.TemporaryDirectory(prefix="jdm-cds-jwks-") as folder:
        result = jwks_outage.run_jwks_outage(
            Path(folder),
            duration_s=args.duration,
            bad_clients=args.bad_clients,
            good_clients=args.good_clients,
            jwks_timeout_s=args.jwks_timeout,
            workers=args.workers,
        )
    good = result["valid_calls_other_issuer"]
    met = good["errors"] == 0 and good["calls"] > 0 and good["p99_ms"] <= result["target_p99_ms"]
    return result, met


def run_summary(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    with tempfile.TemporaryDirectory(prefix="jdm-cds-summary-") as folder:
        result = summary_scale.run_summary_scale(
            Path(folder), codes=args.codes, database_url=args.database_url
        )
    return result, result["median_ms"] <= result["target_ms"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    jwks = sub.add_parser("jwks", help="hanging JWKS + bad-token clients vs valid calls")
    summary = sub.add_parser("summary", help="feedback summary over many reason codes")
    every = sub.add_parser("all", help="both, one after the other")
    for each in (jwks, every):
        each.add_argument("--duration", type=float, default=30.0)
        each.add_argument("--bad-clients", type=int, default=20)
        each.add_argument("--good-clients", type=int, default=2)
        each.add_argument("--jwks-timeout", type=float, default=3.0, help="the shipped default")
        each.add_argument("--workers", type=int, default=0, help="0: the config's default")
    for each in (summary, every):
        each.add_argument("--codes", type=int, default=40_000)
        each.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    for each in (jwks, summary, every):
        each.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    runs = {"jwks": [run_jwks], "summary": [run_summary], "all": [run_jwks, run_summary]}
    passed = True
    for run in runs[args.mode]:
        result, met = run(args)
        result["target_met"] = met
        passed = passed and met
        print(json.dumps(result) if args.json else _table(result), flush=True)
    return 0 if passed else 1


def _table(result: dict[str, Any], indent: str = "") -> str:
    width = max(len(key) for key in result)
    lines = []
    for key, value in result.items():
        if isinstance(value, dict) and key != "statuses":
            lines.append(f"{indent}{key}")
            lines.append(_table(value, indent + "  "))
        else:
            lines.append(f"{indent}{key:<{width}}  {value}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
