"""Short forms of bench/load.py against the production server (gunicorn, the repo's config).

The long forms run with ``make load``. Each test starts its own gunicorn on a free loopback port
with a fresh SQLite store, and stops it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import load

pytestmark = [pytest.mark.server, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[load.Server]:
    """One production server (auth on) for the load and the clean-stop durability runs."""
    with load.running_server(tmp_path_factory.mktemp("load"), auth=True, workers=2) as running:
        yield running


def test_short_load_has_no_errors(server: load.Server) -> None:
    result = load.run_load(server, duration_s=3.0, concurrency=4, size=50)
    assert result["errors"] == 0, result["error_samples"]
    assert result["by_kind"]["hook"] > 0 and result["by_kind"]["feedback"] > 0
    assert result["p50_ms"] <= result["p99_ms"]
    assert result["rss_after_mb"] > 0


def test_every_acknowledged_feedback_is_stored(server: load.Server) -> None:
    # runs after the load test: the feedback rows that test wrote are not its own attempts
    result = load.run_durability(server, duration_s=4.0, writers=8, kill_after_s=None)
    assert result["acknowledged"] > 0
    assert result["stored"] == result["acknowledged"]
    assert result["lost_acknowledged"] == 0 and result["unexpected_rows"] == 0


def test_kill_9_mid_run_loses_nothing_acknowledged(tmp_path: Path) -> None:
    with load.running_server(tmp_path, auth=True, workers=2) as server:
        result = load.run_durability(server, duration_s=6.0, writers=8, kill_after_s=2.5)
        assert server.process.returncode == -9  # the master really died of SIGKILL
    assert result["acknowledged"] > 0
    assert result["lost_acknowledged"] == 0
    assert result["unexpected_rows"] == 0
