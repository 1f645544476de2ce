"""Slow clients against the production stack: do ``/healthz`` and a hook call stay fast?

Starts gunicorn with the shipped config (auth on, a fresh SQLite store) and, unless
``--no-proxy``, nginx with deploy/nginx/ in front of it. Then ``--connections`` clients without a
token send a request one byte every ``--interval`` seconds for ``--duration`` seconds: half
trickle their headers, half send whole headers announcing a body and trickle the body. A client
the server hangs up on connects again at once, so the pressure never lets up. Meanwhile two
probes run, one request after another, each on a new connection: ``GET /healthz`` and a
300-resource ``patient-view`` call with a freshly signed ES384 JWT.

Prints, per probe, how many requests, p50 / p99 / worst latency and the errors; and how often
the server hung up on a slow client. Printed, not asserted (the figures depend on the machine).

    python -m bench.slow_clients                    # 60 connections, 60 s, through nginx
    python -m bench.slow_clients --no-proxy         # the same against gunicorn alone
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench import generate, load, proxy

HEADER_TRICKLE = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100_000
BODY_HEADERS = (
    b"POST /cds-services/jdm-ivig HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
)
PROBE_PAUSE_S = 0.5


@dataclass
class Probe:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "requests": len(ordered),
            "p50_ms": round(load.percentile(ordered, 0.50), 1),
            "p99_ms": round(load.percentile(ordered, 0.99), 1),
            "worst_ms": round(ordered[-1], 1) if ordered else 0.0,
            "over_1s": sum(1 for v in ordered if v > 1000),
            "over_5s": sum(1 for v in ordered if v > 5000),
            "errors": len(self.errors),
            "error_samples": sorted(set(self.errors))[:5],
        }


@dataclass
class SlowTally:
    connects: int = 0
    hung_up_by_server: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, *, hung_up: bool) -> None:
        with self.lock:
            self.connects += 1
            self.hung_up_by_server += int(hung_up)


def trickle(
    port: int, prelude: bytes, payload: bytes, interval_s: float, stop_at: float, tally: SlowTally
) -> None:
    """Send `prelude` at once, then `payload` a byte per interval; reconnect when hung up on."""
    while time.monotonic() < stop_at:
        hung_up = False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.sendall(prelude)
                for index in range(len(payload)):
                    if time.monotonic() >= stop_at:
                        break
                    conn.sendall(payload[index : index + 1])
                    time.sleep(interval_s)
        except OSError:
            hung_up = True
        tally.count(hung_up=hung_up)
        if hung_up:
            time.sleep(0.05)


def probe_loop(call: Callable[[], str | None], stop_at: float, probe: Probe) -> None:
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        try:
            error = call()
        except requests.RequestException as exc:
            error = type(exc).__name__
        probe.latencies_ms.append((time.perf_counter() - started) * 1000)
        if error is not None:
            probe.errors.append(error)
        time.sleep(PROBE_PAUSE_S)


def run(
    server: load.Server, front_url: str, *, connections: int, duration_s: float, interval_s: float
) -> dict[str, Any]:
    port = int(front_url.rsplit(":", 1)[1])
    now = datetime.now(UTC).replace(microsecond=0)
    record = generate.generate_record(300, now, patient_id="slow-1")
    hook_body = generate.hook_request(record, "slow-1")
    path = "/cds-services/jdm-ivig"

    def healthz() -> str | None:
        status = requests.get(front_url + "/healthz", timeout=30).status_code
        return None if status == 200 else f"healthz: HTTP {status}"

    def hook_call() -> str | None:
        response = requests.post(
            front_url + path, json=hook_body, headers=server.token(path), timeout=30
        )
        return None if response.status_code == 200 else f"hook: HTTP {response.status_code}"

    hook_call()  # warm
    tally = SlowTally()
    stop_at = time.monotonic() + duration_s
    threads = [
        threading.Thread(
            target=trickle,
            args=(port, b"", HEADER_TRICKLE, interval_s, stop_at, tally)
            if index % 2 == 0
            else (port, BODY_HEADERS, b"{" + b" " * 99_999, interval_s, stop_at, tally),
            daemon=True,
        )
        for index in range(connections)
    ]
    for thread in threads:
        thread.start()
    time.sleep(min(3.0, duration_s / 4))  # let every slow client get its connection
    probes = {"healthz": Probe(), "hook_call_300": Probe()}
    probers = [
        threading.Thread(target=probe_loop, args=(healthz, stop_at, probes["healthz"])),
        threading.Thread(target=probe_loop, args=(hook_call, stop_at, probes["hook_call_300"])),
    ]
    for thread in probers:
        thread.start()
    for thread in [*probers, *threads]:
        thread.join()
    return {
        "slow_connections": connections,
        "duration_s": duration_s,
        "byte_every_s": interval_s,
        "slow_connects": tally.connects,
        "slow_hung_up_by_server": tally.hung_up_by_server,
        **{name: probe.summary() for name, probe in probes.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=60)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between bytes")
    parser.add_argument("--no-proxy", action="store_true", help="gunicorn alone")
    parser.add_argument("--workers", type=int, default=0, help="0: the config's default")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jdm-cds-slow-") as folder:
        with load.running_server(Path(folder), auth=True, workers=args.workers) as server:
            upstream = server.base_url.removeprefix("http://")
            if args.no_proxy:
                result = run(server, server.base_url, connections=args.connections,
                             duration_s=args.duration, interval_s=args.interval)  # fmt: skip
            else:
                proxy_dir = Path(folder) / "nginx"
                with proxy.running_proxy(proxy_dir, [upstream]) as front:
                    result = run(server, front.base_url, connections=args.connections,
                                 duration_s=args.duration, interval_s=args.interval)  # fmt: skip
    result = {"stack": "gunicorn" if args.no_proxy else "nginx + gunicorn", **result}
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
