"""bench/history.py (the issue-4 speed target) runs and prints its figures: a short run, so the
script cannot rot. The figures themselves are read from `make bench`, never asserted here."""

from __future__ import annotations

import re

import pytest

from bench import history as bench_history


def test_the_history_benchmark_prints_both_records_and_a_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert bench_history.main(["--repeats", "1", "--size", "300"]) == 0
    printed = capsys.readouterr().out
    rows = [line for line in printed.splitlines() if line.startswith("| ") and "ms" in line]
    assert [row.split(" | ")[0] for row in rows] == [
        "| fhir_fixtures/record_mix.py, 300 (vitals-heavy)",
        "| bench/generate.py, 300 (lab-dense)",
    ]
    for row in rows:
        assert len(re.findall(r"\d+\.\d ms \(\d+\.\d\dx\)", row)) == 3  # cold, new chart, warm
        assert int(row.rstrip(" |").rsplit("| ", 1)[1]) > 0  # something was validated
    verdicts = re.findall(r": (met|MISSED)$", printed, flags=re.MULTILINE)
    assert len(verdicts) == 4
