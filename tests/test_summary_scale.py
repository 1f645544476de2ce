"""The short form of ``python -m bench.boundaries summary``: many distinct override reasons
stored, the production server's summary lists every one, in order (most cards first, then by
code), and answers promptly. The bench's figure is 40,000 codes within 200 ms."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import summary_scale

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]


def test_the_summary_of_thousands_of_reasons_lists_each_in_order(tmp_path: Path) -> None:
    result = summary_scale.run_summary_scale(tmp_path, codes=4_000)
    assert result["reasons_in_summary"] == 4_000
    assert result["reasons_in_order"] is True
    # the quadratic fold (104-143 s at 40,000 codes) would take about 1 s at 4,000
    assert result["median_ms"] < 500, result
