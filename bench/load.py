"""Load and durability against the production server (gunicorn with the repo's config).

Bounded and loopback only: each run starts its own gunicorn on a free 127.0.0.1 port with a
fresh SQLite store, drives it for a fixed time and stops it.

``load``: client threads send a mix of hook calls (full prefetch of a synthetic JDM record, see
bench/generate.py), discovery and feedback (on cards the hook calls got), each hook call and
feedback with a freshly signed CDS Hooks JWT (auth on, as in production; ``--no-auth`` to leave
it off). Reports the sustained
rate, the errors (anything but the expected status; must be 0), p50/p99 latency and the
server's memory (RSS of master + workers) before and after.

``durability``: ``--writers`` threads POST feedback as fast as they can, each item on a card of
its own (the store accepts feedback only on cards it issued: the run first records enough
cards as issued, as hook calls would). Without ``--kill-after``
the server is stopped cleanly and every acknowledged item must be in SQLite (count matches).
With ``--kill-after S`` the whole server (master and workers) gets SIGKILL mid-run; afterwards
every item acknowledged before the kill must still be in SQLite (WAL).

    python -m bench.load load --duration 60 --concurrency 8      # from the repository root
    python -m bench.load load --size 3000 --proxy                # through nginx (deploy/nginx/)
    python -m bench.load durability --duration 60 --writers 8
    python -m bench.load durability --duration 10 --writers 8 --kill-after 5

Prints a summary; ``--json`` prints it as JSON (the tests read that). Exit 1 when the run failed
its bar (errors, lost writes).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from bench import generate, proxy
from cds_service.store.database import open_store
from cds_service.store.records import IssuedCard

ROOT = Path(__file__).resolve().parent.parent

SERVICE = "jdm-ivig"
ISSUER = "https://load-test-ehr.invalid"
KID = "load-test-es384"
GUNICORN_CONF = ROOT / "cds_service" / "serving" / "gunicorn_conf.py"
WSGI_APP = "cds_service.serving.wsgi:app"


# --- the server under test ----------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    database: Path
    signing_key: ec.EllipticCurvePrivateKey | None
    log_path: Path
    # where requests go when not straight to gunicorn (nginx in front, ``--proxy``); tokens stay
    # for base_url, the service's CDS_PUBLIC_BASE_URL
    front_url: str | None = None

    @property
    def url(self) -> str:
        return self.front_url or self.base_url

    def token(self, path: str, lifetime_s: int = 300) -> dict[str, str]:
        if self.signing_key is None:
            return {}
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": self.base_url + path, "iat": min(now, now + lifetime_s),
                  "exp": now + lifetime_s, "jti": str(uuid.uuid4())}  # fmt: skip
        token = jwt.encode(claims, self.signing_key, "ES384", headers={"kid": KID})
        return {"Authorization": f"Bearer {token}"}

    def rss_kb(self) -> int:
        """Resident memory of the master and all its workers, in KiB."""
        return sum(_rss_kb(pid) for pid in _process_tree(self.process.pid))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _process_tree(root_pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [root_pid]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _write_issuer(folder: Path) -> tuple[ec.EllipticCurvePrivateKey, Path]:
    key = ec.generate_private_key(ec.SECP384R1())
    public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public_jwk.update({"kid": KID, "alg": "ES384", "use": "sig"})
    (folder / "jwks.json").write_text(json.dumps({"keys": [public_jwk]}))
    issuers = folder / "issuers.json"
    issuers.write_text(json.dumps({ISSUER: {"jwks_file": "jwks.json"}}))
    return key, issuers


@contextmanager
def running_server(
    folder: Path,
    *,
    auth: bool,
    workers: int = 0,
    log_level: str = "WARNING",
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    port = free_port()
    database = folder / "jdm-cds.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    env.update({
        "CDS_HOST": "127.0.0.1",
        "CDS_PORT": str(port),
        "CDS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "CDS_DATABASE_URL": f"sqlite:///{database}",
        "CDS_AUTH_REQUIRED": "true" if auth else "false",
        "CDS_LOG_LEVEL": log_level,
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
    })  # fmt: skip
    if workers:
        env["CDS_WORKERS"] = str(workers)
    env.update(extra_env or {})
    key = None
    if auth:
        key, issuers = _write_issuer(folder)
        env["CDS_AUTH_ISSUERS_FILE"] = str(issuers)
    (folder / "metrics").mkdir(exist_ok=True)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log_path = folder / "server.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(gunicorn), "-c", str(GUNICORN_CONF), WSGI_APP],
            cwd=folder, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 reaches every worker
        )  # fmt: skip
    server = Server(process, f"http://127.0.0.1:{port}", database, key, log_path)
    try:
        _wait_ready(server)
        yield server
    finally:
        stop(server, signal.SIGTERM)


def _wait_ready(server: Server, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited: {server.log_path.read_text()[-2000:]}")
        try:
            if requests.get(server.base_url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready in time")


def stop(server: Server, how: signal.Signals) -> None:
    if server.process.poll() is not None:
        return
    try:
        os.killpg(server.process.pid, how)
    except ProcessLookupError:
        return
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)


# --- load -------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    by_kind: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, elapsed_ms: float, error: str | None) -> None:
        with self.lock:
            self.latencies_ms.append(elapsed_ms)
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
            if error is not None and len(self.errors) < 1000:
                self.errors.append(error)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _one_call(
    server: Server,
    session: requests.Session,
    kind: str,
    body: Any,
    issued: Issued | None = None,
) -> str | None:
    """One request; a hook call's card uuids go to `issued` (feedback may name only those)."""
    if kind == "discovery":
        path = "/cds-services"
        response = session.get(server.url + path, headers=server.token(path), timeout=30)
    else:
        path = f"/cds-services/{SERVICE}" + ("/feedback" if kind == "feedback" else "")
        response = session.post(server.url + path, json=body, headers=server.token(path),
                                timeout=30)  # fmt: skip
    if response.status_code != 200:
        return f"{kind}: HTTP {response.status_code}"
    if kind == "hook" and "cards" not in response.json():
        return "hook: no cards list"
    if kind == "hook" and issued is not None:
        issued.add(card["uuid"] for card in response.json()["cards"])
    return None


class Issued:
    """Card uuids the service answered with, each handed out once for feedback."""

    def __init__(self, uuids: Iterable[str] = ()) -> None:
        self._uuids = list(uuids)
        self._lock = threading.Lock()

    def add(self, uuids: Iterable[str]) -> None:
        with self._lock:
            self._uuids.extend(uuids)

    def take(self) -> str | None:
        with self._lock:
            return self._uuids.pop() if self._uuids else None


def seed_issued_cards(server: Server, count: int) -> Issued:
    """`count` cards recorded as issued in the server's store, as hook calls would have."""
    uuids = [str(uuid.uuid4()) for _ in range(count)]
    store = open_store(f"sqlite:///{server.database}")
    try:
        for start in range(0, count, 5000):
            batch = [IssuedCard(u, "ivig-start") for u in uuids[start : start + 5000]]
            store.record_issued_cards(batch, SERVICE, datetime.now(UTC))
    finally:
        store.close()
    return Issued(uuids)


def _feedback_body(card_uuid: str) -> dict[str, Any]:
    return {"feedback": [{"card": card_uuid, "outcome": "accepted",
                          "outcomeTimestamp": datetime.now(UTC).isoformat()}]}  # fmt: skip


def run_load(server: Server, *, duration_s: float, concurrency: int, size: int) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    resources = generate.generate_record(size, now, patient_id="load-1")
    hook_body = generate.hook_request(resources, "load-1")
    issued = Issued()  # feedback names cards the hook calls got (anything else is a 400)
    # warm every worker once, so the figures are the steady state
    with requests.Session() as session:
        for _ in range(8):
            _one_call(server, session, "hook", hook_body, issued)
    rss_before = server.rss_kb()
    tally = Tally()
    stop_at = time.monotonic() + duration_s
    mix = ["hook"] * 8 + ["discovery", "feedback"]

    def client(index: int) -> None:
        with requests.Session() as session:
            turn = index
            while time.monotonic() < stop_at:
                kind = mix[turn % len(mix)]
                turn += 1
                card = issued.take() if kind == "feedback" else None
                if kind == "feedback" and card is None:
                    kind = "hook"  # no card left to give feedback on yet
                body = _feedback_body(card) if card is not None else hook_body
                started = time.perf_counter()
                try:
                    error = _one_call(server, session, kind, body, issued)
                except requests.RequestException as exc:
                    error = f"{kind}: {type(exc).__name__}"
                tally.add(kind, (time.perf_counter() - started) * 1000, error)

    started = time.monotonic()
    _run_threads(client, concurrency)
    elapsed = time.monotonic() - started
    total = len(tally.latencies_ms)
    return {
        "mode": "load",
        "duration_s": round(elapsed, 1),
        "concurrency": concurrency,
        "record_size": size,
        "requests": total,
        "by_kind": tally.by_kind,
        "rate_per_s": round(total / elapsed, 1),
        "errors": len(tally.errors),
        "error_samples": sorted(set(tally.errors))[:5],
        "p50_ms": round(percentile(tally.latencies_ms, 0.50), 1),
        "p99_ms": round(percentile(tally.latencies_ms, 0.99), 1),
        "mean_ms": round(statistics.fmean(tally.latencies_ms), 1) if total else 0.0,
        "rss_before_mb": round(rss_before / 1024, 1),
        "rss_after_mb": round(server.rss_kb() / 1024, 1),
    }


def _run_threads(target: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# --- durability -------------------------------------------------------------------------------


def run_durability(
    server: Server, *, duration_s: float, writers: int, kill_after_s: float | None
) -> dict[str, Any]:
    already_stored = stored_card_uuids(server.database)  # rows of earlier runs on this server
    # feedback may name only issued cards: more than the writers can answer in the time
    issued = seed_issued_cards(server, max(2_000, int(duration_s * 400)))
    acknowledged: list[str] = []
    attempted: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + duration_s
    killed = threading.Event()

    def writer(_: int) -> None:
        with requests.Session() as session:
            while time.monotonic() < stop_at and not killed.is_set():
                card = issued.take()
                if card is None:
                    return
                with lock:
                    attempted.append(card)
                path = f"/cds-services/{SERVICE}/feedback"
                try:
                    response = session.post(server.url + path, json=_feedback_body(card),
                                            headers=server.token(path), timeout=30)  # fmt: skip
                except requests.RequestException:
                    continue  # not acknowledged: may or may not be stored
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(card)

    killer = None
    if kill_after_s is not None:

        def kill() -> None:
            time.sleep(kill_after_s)
            killed.set()
            stop(server, signal.SIGKILL)

        killer = threading.Thread(target=kill, daemon=True)
        killer.start()
    started = time.monotonic()
    _run_threads(writer, writers)
    elapsed = time.monotonic() - started
    if killer is not None:
        killer.join()
    else:
        stop(server, signal.SIGTERM)
    with lock:
        acked, tried = set(acknowledged), set(attempted)
    stored = stored_card_uuids(server.database) - already_stored
    lost = acked - stored
    return {
        "mode": "durability",
        "writers": writers,
        "duration_s": duration_s,
        "killed_with_sigkill": kill_after_s is not None,
        "acknowledged": len(acked),
        "stored": len(stored & tried),
        "lost_acknowledged": len(lost),
        "stored_not_acknowledged": len((stored & tried) - acked),
        "unexpected_rows": len(stored - tried),
        "writes_per_s": round(len(acked) / elapsed, 1),
    }


def stored_card_uuids(database: Path) -> set[str]:
    """Card uuids in the feedback table, read as a new process would after a crash."""
    connection = sqlite3.connect(database)  # opening replays the WAL, as the service would
    try:
        rows = connection.execute("SELECT card_uuid FROM card_feedback").fetchall()
    finally:
        connection.close()
    return {row[0] for row in rows}


# --- command line -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    load = sub.add_parser("load", help="sustained mixed load")
    load.add_argument("--duration", type=float, default=60.0)
    load.add_argument("--concurrency", type=int, default=8)
    load.add_argument("--size", type=int, default=300, help="resources in the patient's record")
    load.add_argument("--no-auth", action="store_true")
    load.add_argument("--proxy", action="store_true", help="through nginx (deploy/nginx/)")
    durability = sub.add_parser("durability", help="feedback writes, optionally kill -9")
    durability.add_argument("--duration", type=float, default=60.0)
    durability.add_argument("--writers", type=int, default=8)
    durability.add_argument("--kill-after", type=float, default=None)
    durability.add_argument("--no-auth", action="store_true")
    for each in (load, durability):
        each.add_argument("--json", action="store_true", help="print the result as JSON")
        each.add_argument("--workers", type=int, default=0, help="0: the config's default")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jdm-cds-load-") as folder:
        with running_server(Path(folder), auth=not args.no_auth, workers=args.workers) as server:
            if args.mode == "load":
                with _front(server, Path(folder), args.proxy) as front:
                    result = run_load(front, duration_s=args.duration,
                                      concurrency=args.concurrency, size=args.size)  # fmt: skip
                result["stack"] = "nginx + gunicorn" if args.proxy else "gunicorn"
                ok = result["errors"] == 0 and result["requests"] > 0
            else:
                result = run_durability(server, duration_s=args.duration, writers=args.writers,
                                        kill_after_s=args.kill_after)  # fmt: skip
                ok = result["lost_acknowledged"] == 0 and result["acknowledged"] > 0
                ok = ok and result["unexpected_rows"] == 0
    result["passed"] = ok
    print(json.dumps(result) if args.json else _summary(result))
    return 0 if ok else 1


@contextmanager
def _front(server: Server, folder: Path, with_proxy: bool) -> Iterator[Server]:
    """`server` as clients reach it: directly, or through nginx with deploy/nginx/."""
    if not with_proxy:
        yield server
        return
    upstream = server.base_url.removeprefix("http://")
    with proxy.running_proxy(folder / "nginx", [upstream]) as front:
        yield replace(server, front_url=front.base_url)


def _summary(result: dict[str, Any]) -> str:
    width = max(len(key) for key in result)
    return "\n".join(f"{key:<{width}}  {value}" for key, value in result.items())


if __name__ == "__main__":
    sys.exit(main())
