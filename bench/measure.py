"""Timing helpers for bench/run.py: percentiles, repeated calls, concurrent HTTP clients."""

from __future__ import annotations

import http.client
import json
import math
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fhir.resources.R4B import get_fhir_model_class


@dataclass(frozen=True)
class Latency:
    """Seconds per call over `samples` calls."""

    samples: int
    p50: float
    p95: float
    p99: float
    mean: float
    worst: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        ordered = sorted(seconds)
        return cls(
            samples=len(ordered),
            p50=percentile(ordered, 50),
            p95=percentile(ordered, 95),
            p99=percentile(ordered, 99),
            mean=statistics.fmean(ordered),
            worst=ordered[-1],
        )


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of sorted values (with few samples p99 is the worst one)."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def time_calls(call: Callable[[], object], repeats: int, warmup: int = 2) -> Latency:
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return Latency.of(seconds)


# --- the naive baseline: what any FHIR-validating service must at least do --------------------


def prefetch_resources(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for value in (body.get("prefetch") or {}).values():
        if not isinstance(value, dict):
            continue
        if value.get("resourceType") == "Bundle":
            for entry in value.get("entry", []):
                yield entry["resource"]
        else:
            yield value


def baseline_parse(raw: bytes) -> int:
    """json.loads of the request, then every prefetched resource validated with R4B models."""
    body = json.loads(raw)
    count = 0
    for resource in prefetch_resources(body):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        count += 1
    return count


# --- HTTP clients ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    latency: Latency
    requests_per_s: float
    statuses: dict[int, int]


class HttpPoster:
    """One keep-alive connection (a client of the service), posting prepared bodies."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def post(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        all_headers = {"Content-Type": "application/json", **headers}
        try:
            self.connection.request("POST", self.path, body=body, headers=all_headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            raise

    def close(self) -> None:
        self.connection.close()


def run_load(
    url: str,
    body: bytes,
    *,
    clients: int,
    requests_per_client: int,
    headers_for: Callable[[], Mapping[str, str]] = dict,
    warmup: int = 1,
) -> LoadResult:
    """`clients` threads, each posting `body` `requests_per_client` times back to back."""
    seconds: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        poster = HttpPoster(url)
        for _ in range(warmup):
            poster.post(body, headers_for())
        barrier.wait()
        mine: list[float] = []
        for _ in range(requests_per_client):
            headers = headers_for()
            started = time.perf_counter()
            status, _answer = poster.post(body, headers)
            mine.append(time.perf_counter() - started)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
        poster.close()
        with lock:
            seconds.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return LoadResult(Latency.of(seconds), len(seconds) / wall, statuses)
