"""Calls that try to take a minute and a gigabyte: time against the deadline, worker memory.

Each scenario runs on a fresh gunicorn with the shipped config (auth on, every call with a fresh
ES384 JWT) and ONE worker, so the memory figures are that worker's:

- ``prefetch-identifiers``: a 27.5 MB prefetch holding one Patient with 1.3 million identifiers
  (one resource; under every size limit the service had);
- ``prefetch-under-count``: the same with 990,000 identifiers, just under the count of JSON
  objects a body may hold (CDS_MAX_BODY_JSON_CONTAINERS), so it is parsed before it is refused;
- ``fhir-patient``: no prefetch; the FHIR server answers a 15 MiB Patient (235,000 identifiers);
- ``fhir-pages``: no prefetch; the Patient is small, but every search answers 15 MiB pages, each
  with a ``next`` link (20 pages per search).

Printed per scenario: the status and what the answer said (diagnostics, or the gather notes),
seconds against the deadline (``CDS_REQUEST_DEADLINE_S``), the worker's RSS before the call, its
peak (VmHWM) and after it, and whether the worker was then recycled (a new pid) with the new
worker's RSS after a normal call. ``--parallel N`` sends N of the same call at once to the default
number of workers and prints the total RSS of all workers at its peak and after.

    python -m bench.heavy_calls                       # every scenario, one call each
    python -m bench.heavy_calls --scenario prefetch-identifiers --parallel 8
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench import generate, load
from bench.heavy_fhir import HeavyFhir, big_page, heavy_fhir, patient_with_identifiers
from bench.servers import descendants
from cds_service.config import Settings

PATH = "/cds-services/jdm-ivig"
PATIENT_ID = "heavy-1"
SCENARIOS = ("prefetch-identifiers", "prefetch-under-count", "fhir-patient", "fhir-pages")
# prefetch-under-count: identifiers just under CDS_MAX_BODY_JSON_CONTAINERS, so the body is parsed
UNDER_COUNT_IDENTIFIERS = 990_000
PAGE_BYTES = 15 * 1024 * 1024


def status_mb(pid: int, name: str) -> float | None:
    """A /proc/<pid>/status figure (VmRSS, VmHWM) in MB, or None when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def workers(server: load.Server) -> list[int]:
    return sorted(descendants(server.process.pid))


def hook_body(fhir_server: str | None = None, patient: bytes | None = None) -> bytes:
    head: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/bench", "patientId": PATIENT_ID},
    }
    if fhir_server is not None:
        head["fhirServer"] = fhir_server
    if patient is None:
        return json.dumps(head).encode()
    return json.dumps(head).encode()[:-1] + b',"prefetch":{"patient":' + patient + b"}}"


def post(server: load.Server, body: bytes) -> tuple[int, dict[str, Any], float]:
    headers = {"Content-Type": "application/json", **server.token(PATH)}
    started = time.monotonic()
    response = requests.post(server.base_url + PATH, data=body, headers=headers, timeout=300)
    elapsed = time.monotonic() - started
    try:
        answer = response.json()
    except ValueError:
        answer = {"text": response.text[:200]}
    return response.status_code, answer, elapsed


def what_it_said(answer: dict[str, Any]) -> list[str]:
    if answer.get("resourceType") == "OperationOutcome":
        return [str(issue.get("diagnostics")) for issue in answer.get("issue", [])]
    notes = answer.get("extension", {}).get("org.jdm-cds.gather-notes", [])
    return [f"cards: {len(answer.get('cards', []))}", *map(str, notes)][:6]


def normal_call(server: load.Server, normal: bytes) -> None:
    status, _, _ = post(server, normal)
    if status != 200:
        raise RuntimeError(f"a normal 300-resource call answered {status}")


@contextmanager
def scenario_server(name: str) -> Iterator[str | None]:
    """The FHIR server a scenario needs (its base URL), or None."""
    if name.startswith("prefetch-"):
        yield None
        return
    if name == "fhir-patient":
        state = HeavyFhir(patient=patient_with_identifiers(PATIENT_ID, 235_000, with_system=True))
    else:
        state = HeavyFhir(
            patient=patient_with_identifiers(PATIENT_ID, 1, with_system=True),
            page=big_page("Observation", PATIENT_ID, PAGE_BYTES),
        )
    with heavy_fhir(state) as running:
        yield running.base_url


def one_call(server: load.Server, body: bytes, normal: bytes) -> dict[str, Any]:
    normal_call(server, normal)  # the worker as it is in service: warm
    (pid,) = workers(server)
    before = status_mb(pid, "VmRSS")
    status, answer, elapsed = post(server, body)
    peak, after = status_mb(pid, "VmHWM"), status_mb(pid, "VmRSS")
    recycled_to = wait_for_new_worker(server, pid)
    if recycled_to is not None:
        normal_call(server, normal)
    return {
        "status": status,
        "said": what_it_said(answer),
        "seconds": round(elapsed, 2),
        "rss_before_mb": before,
        "rss_peak_mb": peak,
        "rss_after_mb": after,
        "rss_growth_mb": round((after or 0) - (before or 0), 1),
        "recycled": recycled_to is not None,
        "rss_after_recycling_mb": status_mb(recycled_to, "VmRSS") if recycled_to else after,
    }


def wait_for_new_worker(
    server: load.Server, old_pid: int, settle_s: float = 3.0, timeout_s: float = 20.0
) -> int | None:
    """The pid of the worker that replaced `old_pid`, or None if it is still serving
    `settle_s` after the call."""
    gone_by = time.monotonic() + settle_s
    while old_pid in workers(server):
        if time.monotonic() > gone_by:
            return None
        time.sleep(0.1)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if current := workers(server):
            return current[0]
        time.sleep(0.1)
    return None


def parallel_calls(server: load.Server, body: bytes, count: int) -> dict[str, Any]:
    results: list[tuple[int, float]] = []
    peak_total = 0.0
    before = sum(status_mb(pid, "VmRSS") or 0 for pid in workers(server))
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_total
        while not done.is_set():
            total = sum(status_mb(pid, "VmRSS") or 0 for pid in workers(server))
            peak_total = max(peak_total, total)
            time.sleep(0.1)

    def call() -> None:
        status, _, elapsed = post(server, body)
        results.append((status, elapsed))

    sampler = threading.Thread(target=sample)
    sampler.start()
    _run_all([call] * count)
    done.set()
    sampler.join()
    time.sleep(2.0)
    return {
        "calls": count,
        "statuses": sorted(status for status, _ in results),
        "slowest_s": round(max(elapsed for _, elapsed in results), 2),
        "workers_rss_before_mb": round(before, 1),
        "workers_rss_peak_mb": round(peak_total, 1),
        "workers_rss_after_mb": round(
            sum(status_mb(pid, "VmRSS") or 0 for pid in workers(server)), 1
        ),
    }


def _run_all(calls: Sequence[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_scenario(name: str, parallel: int, normal: bytes) -> dict[str, Any]:
    with scenario_server(name) as fhir_url, tempfile.TemporaryDirectory() as folder:
        if name.startswith("prefetch-"):
            count = 1_300_000 if name == "prefetch-identifiers" else UNDER_COUNT_IDENTIFIERS
            patient = patient_with_identifiers(PATIENT_ID, count, with_system=False)
            body = hook_body(patient=patient)
        else:
            body = hook_body(fhir_server=fhir_url)
        workers_wanted = 0 if parallel > 1 else 1
        with load.running_server(Path(folder), auth=True, workers=workers_wanted) as server:
            result: dict[str, Any] = {"scenario": name, "body_mb": round(len(body) / 1e6, 1)}
            result["deadline_s"] = Settings().request_deadline_s
            if parallel > 1:
                result.update(parallel_calls(server, body, parallel))
            else:
                result.update(one_call(server, body, normal))
            return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=SCENARIOS, action="append")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    now = datetime.now(UTC).replace(microsecond=0)
    record = generate.generate_record(300, now, patient_id="normal-1")
    normal = json.dumps(generate.hook_request(record, "normal-1")).encode()
    results = [run_scenario(name, args.parallel, normal) for name in args.scenario or SCENARIOS]
    for result in results:
        print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
