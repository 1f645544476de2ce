"""Workers are replaced: after ``CDS_WORKER_MAX_REQUESTS`` requests, and after a request that
leaves one above ``CDS_WORKER_MAX_RSS_MB`` (so one costly call cannot keep its memory).

Each test starts gunicorn with the shipped config and one worker, and waits for the event: the
worker's process ends and a new one takes its place.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from bench import load
from cds_service.serving.recycle import MIB, over_ceiling, resident_bytes

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]


def wait_for_log(server: load.Server, text: str, count: int, timeout_s: float = 30.0) -> int:
    """How often `text` is in the server's log, once it is there `count` times (or at timeout)."""
    deadline = time.monotonic() + timeout_s
    seen = 0
    while time.monotonic() < deadline:
        seen = server.log_path.read_text(errors="replace").count(text)
        if seen >= count:
            break
        time.sleep(0.1)
    return seen


BOOTED = "Booting worker with pid"
OVER_CEILING = "worker above CDS_WORKER_MAX_RSS_MB"


def test_a_worker_above_the_memory_ceiling_is_replaced_after_each_request(
    tmp_path: Path,
) -> None:
    # every worker is above 1 MiB: once a request is answered, a fresh worker takes over
    ceiling = {"CDS_WORKER_MAX_RSS_MB": "1", "CDS_WORKER_MAX_REQUESTS": "0"}
    with load.running_server(
        tmp_path, auth=False, workers=1, log_level="INFO", extra_env=ceiling
    ) as server:
        # running_server's readiness probe was one request: its worker makes way for another
        assert wait_for_log(server, BOOTED, 2) == 2
        assert requests.get(server.base_url + "/healthz", timeout=10).status_code == 200
        assert wait_for_log(server, BOOTED, 3) == 3  # and that one, after this request
        assert wait_for_log(server, OVER_CEILING, 2) == 2


def test_a_worker_is_replaced_after_its_quota_of_requests(tmp_path: Path) -> None:
    quota = {
        "CDS_WORKER_MAX_REQUESTS": "3",
        "CDS_WORKER_MAX_REQUESTS_JITTER": "0",
        "CDS_WORKER_MAX_RSS_MB": "0",
    }
    with load.running_server(
        tmp_path, auth=False, workers=1, log_level="INFO", extra_env=quota
    ) as server:
        # the readiness probe, then two more: the third request is the worker's last
        for _ in range(2):
            assert requests.get(server.base_url + "/healthz", timeout=10).status_code == 200
        assert wait_for_log(server, BOOTED, 2) == 2
    assert OVER_CEILING not in server.log_path.read_text(errors="replace")


def test_the_ceiling_compares_resident_memory() -> None:
    rss = resident_bytes()
    assert rss is not None and rss > MIB
    assert over_ceiling(rss, 1)
    assert not over_ceiling(rss, 0)  # 0: no ceiling
    assert not over_ceiling(rss, rss // MIB + 1)
