"""The therapy-history model's speed target: a 3,000-resource record maps in well under the time
its JSON takes to parse twice (docs/therapy-history.md, Performance). Prints the figures and whether
the target is met.

For each record, `build_history` on already-parsed JSON (as the service holds it) against
``json.loads`` of the same JSON text (one searchset, ``json.dumps`` defaults) twice. CPU time
(`time.process_time`: a shared 2-core box's neighbours are not counted), each figure the best of
`--repeats` rounds, the three measured in turn in every round so that all meet the same machine:

- cold: first sight of these resources, both model caches of `cds_service.history.validate` empty;
- new chart: a running service's first call for this chart (the caches hold another patient's
  chart: common codes and units are known, this chart's resources are not);
- warm: the same chart again (an EHR calls patient-view each time the chart is opened).

"Well under" is read as at most half (TARGET_RATIO). Also counts what was validated.

    .venv/bin/python -m bench.history [--repeats 31] [--size 3000]   # from the repository root
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.generate import generate_record, searchset
from cds_service.history import validate as fhir_validate
from cds_service.history.build import build_history
from cds_service.knowledge.terminology import Terminology, load_terminology
from fhir_fixtures.clocks import SCENARIO_NOW as NOW
from fhir_fixtures.record_mix import chart  # the vitals-heavy chart of the history tests

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.5


@dataclass(frozen=True)
class Record:
    name: str
    patient_id: str
    text: str  # the record's JSON
    other_chart: list[dict[str, Any]]  # another patient's chart of the same kind
    other_patient_id: str


@dataclass(frozen=True)
class Figures:
    record: Record
    validated: int
    loads_twice: float
    cold: float
    new_chart: float
    warm: float


def records(size: int) -> list[Record]:
    mix = chart(size)
    mix_other = json.loads(json.dumps(chart(size, seed=9)).replace("Patient/p1", "Patient/p2"))
    for resource in mix_other:
        if resource["resourceType"] == "Patient":
            resource["id"] = "p2"
    return [
        Record(
            name=f"fhir_fixtures/record_mix.py, {size:,} (vitals-heavy)",
            patient_id="p1",
            text=json.dumps(searchset(mix)),
            other_chart=mix_other,
            other_patient_id="p2",
        ),
        Record(
            name=f"bench/generate.py, {size:,} (lab-dense)",
            patient_id="bench",
            text=json.dumps(searchset(generate_record(size, NOW, patient_id="bench"))),
            other_chart=generate_record(size, NOW, patient_id="other", seed=9),
            other_patient_id="other",
        ),
    ]


def cpu_seconds(call: Callable[[], object]) -> float:
    gc.collect()  # every call starts from the same heap: no collection owed by the one before
    started = time.process_time()
    call()
    return time.process_time() - started


def measure(record: Record, terminology: Terminology, repeats: int) -> Figures:
    def mapped(raw: Sequence[Any]) -> Callable[[], object]:
        return lambda: build_history(raw, record.patient_id, terminology, NOW)

    def forget() -> None:
        fhir_validate.VALIDATED.clear()
        fhir_validate.ELEMENTS.clear()

    best = {"loads": float("inf"), "cold": float("inf"), "new": float("inf"), "warm": float("inf")}
    for _ in range(repeats):
        best["loads"] = min(
            best["loads"], cpu_seconds(lambda: (json.loads(record.text), json.loads(record.text)))
        )
        raw = [json.loads(record.text)]
        forget()
        best["cold"] = min(best["cold"], cpu_seconds(mapped(raw)))
        best["warm"] = min(best["warm"], cpu_seconds(mapped(raw)))
        forget()
        build_history(record.other_chart, record.other_patient_id, terminology, NOW)
        best["new"] = min(best["new"], cpu_seconds(mapped([json.loads(record.text)])))
    forget()
    before = len(fhir_validate.VALIDATED)
    build_history([json.loads(record.text)], record.patient_id, terminology, NOW)
    return Figures(
        record=record,
        validated=len(fhir_validate.VALIDATED) - before,
        loads_twice=best["loads"],
        cold=best["cold"],
        new_chart=best["new"],
        warm=best["warm"],
    )


def render(figures: Sequence[Figures]) -> str:
    def cell(seconds: float, baseline: float) -> str:
        return f"{seconds * 1000:.1f} ms ({seconds / baseline:.2f}x)"

    lines = [
        "| record | JSON | json.loads x2 | cold | new chart | warm | validated |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in figures:
        base = row.loads_twice
        lines.append(
            f"| {row.record.name} | {len(row.record.text) / 1e6:.1f} MB | {base * 1000:.1f} ms"
            f" | {cell(row.cold, base)} | {cell(row.new_chart, base)} | {cell(row.warm, base)}"
            f" | {row.validated} |"
        )
    for row in figures:
        for label, seconds in (("cold", row.cold), ("new chart", row.new_chart)):
            ratio = seconds / row.loads_twice
            verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
            lines.append(
                f"- {row.record.name}, {label}: {ratio:.2f}x json.loads x2"
                f" (target <= {TARGET_RATIO}x): {verdict}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--size", type=int, default=3000)
    args = parser.parse_args(argv)
    terminology = load_terminology(ROOT / "cards" / "valuesets")
    figures = [measure(record, terminology, args.repeats) for record in records(args.size)]
    print(render(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
