"""`make bench`: how fast jdm-cds answers, against the limit and a peer, in one run.

1. In-process, for records of 50, 300, 3,000 and 10,000 resources with FULL prefetch: the whole
   service call (Flask test client: JSON, validation, gathering, pipeline, cards) and the pipeline
   alone (json.loads + gather + evaluate), against the naive baseline (json.loads + every resource
   validated with fhir.resources R4B) and the floor (json.loads alone).
2. Over HTTP against the production server (gunicorn, the shipped config, auth on): latency per
   size with one client, latency and throughput at 300 resources with 1 and 8 clients, and each
   worker's peak RSS after each size.
3. The fetch path: no prefetch, data fetched from sekmet, against the slowest single query the
   service makes and the sum of all of them.
4. The peer: the same requests through a minimal HealthChain service (bench/peer/app.py).

Prints a table with the targets met/missed and writes docs/benchmarks.md.

    .venv/bin/python -m bench.run [--quick] [--profile] [--out docs/benchmarks.md]  # repo root
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench.generate import bench_orders, generate_record, hook_request, transaction_bundle
from bench.measure import Latency, LoadResult, baseline_parse, run_load, time_calls
from bench.report import (
    PARALLEL,
    Results,
    recorded_section,
    render_markdown,
    render_table,
    slowest_query,
)
from bench.servers import healthchain_peer, jdm_cds, sekmet
from cds_service.app import create_app
from cds_service.commands.demo_token import demo_token, ensure_demo_issuer
from cds_service.gather.prefetch import fill_template, gather
from cds_service.pipeline import evaluate
from cds_service.serving.warmup import warm_up
from cds_service.web.state import state

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "jdm-ivig"
ORDER_SERVICE = "jdm-order-sign"
SIZES = (50, 300, 3000, 10000)
REPEATS = {50: 60, 300: 40, 3000: 12, 10000: 5}
HTTP_REPEATS = {50: 40, 300: 40, 3000: 10, 10000: 5}
FETCH_SIZES = (300, 3000)


def say(text: str) -> None:
    print(text, flush=True)


class Bench:
    def __init__(self, workdir: Path, now: datetime, quick: bool, by_category: bool = True) -> None:
        self.workdir = workdir
        self.now = now
        self.scale = 0.25 if quick else 1.0
        self.app = create_app(
            {"database_url": f"sqlite:///{workdir / 'inproc.sqlite3'}"}, clock=lambda: now
        )
        self.service = state(self.app).registry.get(SERVICE)
        self.records = {
            size: generate_record(size, now, patient_id=f"bench-{size}") for size in SIZES
        }
        self.bodies = {
            size: json.dumps(
                hook_request(
                    records,
                    f"bench-{size}",
                    templates=self.service.prefetch,
                    by_category=by_category,
                )
            ).encode()
            for size, records in self.records.items()
        }
        self.results = Results(now=now, sizes=SIZES)
        # as the production master does before forking (gunicorn_conf.pre_fork); frozen after
        # the records are built, or every full collection would walk 10,000 resources of them
        warm_up(self.app)
        gc.freeze()

    def reps(self, table: Mapping[int, int], size: int) -> int:
        return max(3, round(table[size] * self.scale))

    # --- 1. in process -----------------------------------------------------------------------
    def in_process(self) -> None:
        client = self.app.test_client()
        app_state = state(self.app)
        for size in SIZES:
            raw = self.bodies[size]

            def service_call(raw: bytes = raw) -> None:
                response = client.post(
                    f"/cds-services/{SERVICE}", data=raw, content_type="application/json"
                )
                assert response.status_code == 200, response.get_data(as_text=True)[:300]

            def pipeline_only(raw: bytes = raw) -> None:
                body = json.loads(raw)
                gathered = gather(body, self.service, app_state.settings)
                context = body["context"]
                evaluate(
                    gathered.resources,
                    context["patientId"],
                    app_state.knowledge,
                    self.now,
                    public_base_url=app_state.settings.public_base_url,
                    gather_notes=tuple(gathered.notes),
                )

            repeats = self.reps(REPEATS, size)
            self.results.inproc[size] = {
                "service": time_calls(service_call, repeats),
                "pipeline": time_calls(pipeline_only, repeats),
                "baseline": time_calls(lambda raw=raw: baseline_parse(raw), repeats),
                "json": time_calls(lambda raw=raw: json.loads(raw), repeats),
            }
            row = self.results.inproc[size]
            say(
                f"in-process {size:>6}: service p50 {row['service'].p50 * 1000:8.1f} ms, "
                f"pipeline {row['pipeline'].p50 * 1000:8.1f} ms, baseline "
                f"{row['baseline'].p50 * 1000:8.1f} ms, json.loads {row['json'].p50 * 1000:6.1f} ms"
            )
        cards = client.post(
            f"/cds-services/{SERVICE}", data=self.bodies[300], content_type="application/json"
        ).get_json()["cards"]
        self.results.card_topics = sorted(
            c.get("source", {}).get("topic", {}).get("code", "?") for c in cards
        )

    def profile(self, size: int = 3000, calls: int = 3) -> tuple[str, list[tuple[str, float]]]:
        """cProfile of `calls` service calls: the full text, and the top functions by own
        time (ms per call) for docs/benchmarks.md."""
        client = self.app.test_client()
        client.post(
            f"/cds-services/{SERVICE}", data=self.bodies[size], content_type="application/json"
        )
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(calls):
            client.post(
                f"/cds-services/{SERVICE}", data=self.bodies[size], content_type="application/json"
            )
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
        raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        own_time = sorted(
            (
                (f"{Path(file).name}:{line} {name}", values[2])
                for (file, line, name), values in raw.items()
            ),
            key=lambda item: item[1],
            reverse=True,
        )
        top = [(where, seconds * 1000 / calls) for where, seconds in own_time[:12]]
        return out.getvalue(), top

    # --- 2. over HTTP, ours and the peer's ------------------------------------------------------
    def token_headers(
        self, base_url: str, count: int, service: str = SERVICE
    ) -> Callable[[], Mapping[str, str]]:
        audience = f"{base_url}/cds-services/{service}"  # the JWT names the URL it is for
        tokens = [demo_token(self.workdir / "issuer", audience) for _ in range(count)]
        lock = threading.Lock()

        def next_headers() -> Mapping[str, str]:
            with lock:
                return {"Authorization": f"Bearer {tokens.pop()}"}

        return next_headers

    def http_ours(self) -> None:
        issuers = ensure_demo_issuer(self.workdir / "issuer")
        with jdm_cds(self.workdir, issuers) as server:
            self.results.workers = len(server.worker_pids())
            url = f"{server.base_url}/cds-services/{SERVICE}"
            for size in SIZES:
                repeats = self.reps(HTTP_REPEATS, size)
                headers = self.token_headers(server.base_url, repeats + 2)
                self.results.http[size] = run_load(
                    url,
                    self.bodies[size],
                    clients=1,
                    requests_per_client=repeats,
                    headers_for=headers,
                )
                self.results.rss[size] = server.peak_rss_mb()
                say(self._http_line("jdm-cds", size, self.results.http[size]))
            self.results.concurrency = self._concurrency(url, server.base_url)
            self.results.order_sign = self.order_sign(server.base_url)
            self.results.fetch = self.fetch_path(server.base_url)
            self.results.rss_end = server.peak_rss_mb()

    def order_sign_body(self) -> bytes:
        """order-sign at 300 resources: the record with the order service's prefetch, and two
        drafts that each get a card (the checks' whole path, cards included)."""
        service = state(self.app).registry.get(ORDER_SERVICE)
        request = hook_request(self.records[300], "bench-300", templates=service.prefetch)
        request["hook"] = "order-sign"
        request["context"]["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": order} for order in bench_orders("bench-300")],
        }
        return json.dumps(request).encode()

    def order_sign(self, base_url: str) -> LoadResult:
        body = self.order_sign_body()
        response = self.app.test_client().post(
            f"/cds-services/{ORDER_SERVICE}", data=body, content_type="application/json"
        )
        self.results.order_sign_topics = [
            card["source"]["topic"]["code"] for card in response.get_json()["cards"]
        ]
        repeats = self.reps(HTTP_REPEATS, 300)
        result = run_load(
            f"{base_url}/cds-services/{ORDER_SERVICE}",
            body,
            clients=1,
            requests_per_client=repeats,
            headers_for=self.token_headers(base_url, repeats + 2, ORDER_SERVICE),
        )
        say(self._http_line("order-sign", 300, result))
        return result

    def _concurrency(self, url: str, base_url: str | None) -> dict[int, LoadResult]:
        results = {}
        for clients in (1, 8):
            per_client = max(3, round((60 if clients == 1 else 20) * self.scale))
            total = clients * (per_client + 1)
            headers = self.token_headers(base_url, total) if base_url else dict
            results[clients] = run_load(
                url,
                self.bodies[300],
                clients=clients,
                requests_per_client=per_client,
                headers_for=headers,
            )
            say(self._http_line(f"300 x {clients} clients", 300, results[clients]))
        return results

    def http_peer(self) -> None:
        workers = self.results.workers or 2
        with healthchain_peer(workers) as peer:
            url = f"{peer.base_url}/cds-services/{SERVICE}"
            for size in SIZES:
                repeats = self.reps(HTTP_REPEATS, size)
                self.results.peer_http[size] = run_load(
                    url, self.bodies[size], clients=1, requests_per_client=repeats
                )
                self.results.peer_rss[size] = peer.peak_rss_mb()
                say(self._http_line("HealthChain peer", size, self.results.peer_http[size]))
            self.results.peer_concurrency = self._concurrency(url, None)

    @staticmethod
    def _http_line(who: str, size: int, result: LoadResult) -> str:
        return (
            f"HTTP {who:>18} {size:>6}: p50 {result.latency.p50 * 1000:8.1f} ms, p99 "
            f"{result.latency.p99 * 1000:8.1f} ms, {result.requests_per_s:6.1f} req/s, "
            f"statuses {result.statuses}"
        )

    # --- 3. the fetch path --------------------------------------------------------------------
    def fetch_path(self, service_base: str) -> dict[int, dict[str, Any]]:
        figures: dict[int, dict[str, Any]] = {}
        with sekmet(self.workdir) as fhir:
            for size in FETCH_SIZES:
                patient_id = f"bench-{size}"
                bundle = transaction_bundle(self.records[size])
                loaded = requests.post(
                    fhir.base_url,
                    json=bundle,
                    timeout=600,
                    headers={"Content-Type": "application/fhir+json"},
                )
                loaded.raise_for_status()
                body = json.dumps(
                    {
                        "hook": "patient-view",
                        "hookInstance": "6f1c0c52-5b8e-4a52-9a53-2b1f3a0b9f10",
                        "fhirServer": fhir.base_url,
                        "context": {"userId": "Practitioner/bench", "patientId": patient_id},
                    }
                ).encode()
                repeats = max(3, round(8 * self.scale))
                headers = self.token_headers(service_base, repeats + 2)
                service = run_load(
                    f"{service_base}/cds-services/{SERVICE}",
                    body,
                    clients=1,
                    requests_per_client=repeats,
                    headers_for=headers,
                )
                gathering = self.gather_only(json.loads(body), repeats)
                queries = self.direct_queries(fhir.base_url, patient_id)
                figures[size] = {"service": service, "gather": gathering, "queries": queries}
                say(
                    f"fetch {size:>6}: service p50 {service.latency.p50 * 1000:.1f} ms, gather "
                    f"p50 {gathering.p50 * 1000:.1f} ms, slowest "
                    f"query {slowest_query(queries) * 1000:.1f} ms, parallel "
                    f"{queries[PARALLEL] * 1000:.1f} ms ({service.statuses})"
                )
        return figures

    def gather_only(self, body: dict[str, Any], repeats: int) -> Latency:
        """The fetching step alone (the service's own code, in process), no pipeline."""
        settings = state(self.app).settings

        def fetch() -> None:
            gathered = gather(body, self.service, settings)
            assert gathered.resources and not gathered.notes, gathered.notes

        return time_calls(fetch, repeats)

    def direct_queries(self, base_url: str, patient_id: str) -> dict[str, float]:
        """Median time of each prefetch key's search (all its pages, one after another), and
        under PARALLEL the median wall time of all of them fired at once by a plain client."""
        context = {"patientId": patient_id, "userId": "Practitioner/bench"}
        urls = {
            key: f"{base_url}/{relative}"
            for key, template in self.service.prefetch.items()
            if (relative := fill_template(template, context)) is not None
        }
        timings: dict[str, list[float]] = {}
        walls: list[float] = []
        for _ in range(5):
            for key, url in urls.items():
                started = time.perf_counter()
                search_all_pages(url)
                timings.setdefault(key, []).append(time.perf_counter() - started)
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=len(urls)) as pool:
                list(pool.map(search_all_pages, urls.values()))
            walls.append(time.perf_counter() - started)
        medians = {key: sorted(values)[len(values) // 2] for key, values in timings.items()}
        medians[PARALLEL] = sorted(walls)[len(walls) // 2]
        return medians


def search_all_pages(url: str | None) -> None:
    with requests.Session() as session:
        while url:
            answer = session.get(url, headers={"Accept": "application/fhir+json"}, timeout=60)
            links = answer.json().get("link", [])
            url = next((link["url"] for link in links if link.get("relation") == "next"), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the repetitions")
    parser.add_argument("--profile", action="store_true", help="write the full cProfile text")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument(
        "--every-key-unfiltered",
        action="store_true",
        help="fill the assessment-category key with every Observation too (the worst case)",
    )
    args = parser.parse_args(argv)
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="jdm-cds-bench-") as folder:
        bench = Bench(Path(folder), now, args.quick, by_category=not args.every_key_unfiltered)
        say(
            "records generated; request bodies: "
            + ", ".join(f"{size}: {len(body) / 1e6:.1f} MB" for size, body in bench.bodies.items())
        )
        bench.in_process()
        profile_text, bench.results.hot_spots = bench.profile()
        if args.profile:
            profile_path = ROOT / "build" / "bench-profile-3000.txt"
            profile_path.parent.mkdir(exist_ok=True)
            profile_path.write_text(profile_text)
            say(f"profile written to {profile_path}")
        bench.http_ours()
        if not args.skip_peer:
            bench.http_peer()
        results = bench.results
    table, _all_met = render_table(results)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    previous = args.out.read_text() if args.out.exists() else ""
    args.out.write_text(render_markdown(results, table, recorded_section(previous)))
    say(f"written: {args.out}")
    return 0  # a missed target is a finding shown in the table, not a failed run


if __name__ == "__main__":
    sys.exit(main())
