"""bench/history.py (the issue-4 speed target) runs and prints its figures: a short run, so the
script cannot rot. The figures themselves are read from `make bench`, never asserted here."""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType

import pytest

from cds_service.config import REPO_ROOT


def bench_history() -> ModuleType:
    """bench/history.py, loaded by path (a module named `history` would be ambiguous here)."""
    sys.path.insert(0, str(REPO_ROOT / "bench"))  # for its `generate` import
    spec = importlib.util.spec_from_file_location(
        "bench_history", REPO_ROOT / "bench" / "history.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_the_history_benchmark_prints_both_records_and_a_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert bench_history().main(["--repeats", "1", "--size", "300"]) == 0
    printed = capsys.readouterr().out
    rows = [line for line in printed.splitlines() if line.startswith("| ") and "ms" in line]
    assert [row.split(" | ")[0] for row in rows] == [
        "| tests/history/record_mix.py, 300 (vitals-heavy)",
        "| bench/generate.py, 300 (lab-dense)",
    ]
    for row in rows:
        assert len(re.findall(r"\d+\.\d ms \(\d+\.\d\dx\)", row)) == 3  # cold, new chart, warm
        assert int(row.rstrip(" |").rsplit("| ", 1)[1]) > 0  # something was validated
    verdicts = re.findall(r": (met|MISSED)$", printed, flags=re.MULTILINE)
    assert len(verdicts) == 4
