"""One issuer's JWKS hangs and 20 clients send tokens naming that issuer: do another issuer's
valid calls still answer promptly?

The production server (gunicorn with the repo's config, auth on, a fresh SQLite store) trusts
two issuers, both by ``jwks_url`` on loopback: the *hanging* one accepts connections and never
answers; the *healthy* one serves its key. ``bad_clients`` threads send hook calls whose tokens
name the hanging issuer (a made-up ``kid``, a throw-away key: anyone can make such a token);
``good_clients`` threads send hook calls (a 50-resource record, full prefetch) with valid tokens
of the healthy issuer. Reported: the good calls' count, errors and latency (the figure to hold:
p99 <= 1 s), the bad calls' statuses and latency, and how often each JWKS URL was fetched.

Run as ``python -m bench.boundaries jwks`` (see bench/boundaries.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from bench import generate, load

HANGING_ISSUER = "https://hanging-jwks.invalid"
HEALTHY_ISSUER = "https://healthy-jwks.invalid"
HEALTHY_KID = "healthy-es384"
SERVICE_PATH = "/cds-services/jdm-ivig"


@dataclass
class JwksEndpoint:
    """A JWKS URL on loopback: it serves `document`, or holds every request while `hang` is set."""

    document: dict[str, Any]
    hang: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    hits: int = 0
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"


@contextmanager
def jwks_endpoint(document: dict[str, Any], *, hanging: bool) -> Iterator[JwksEndpoint]:
    endpoint = JwksEndpoint(document)
    if hanging:
        endpoint.hang.set()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with endpoint.lock:
                endpoint.hits += 1
            if endpoint.hang.is_set():
                endpoint.released.wait(timeout=600)
                return
            body = json.dumps(endpoint.document).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), Handler)
    endpoint.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield endpoint
    finally:
        endpoint.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _token(key: ec.EllipticCurvePrivateKey, issuer: str, kid: str, audience: str) -> str:
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "iat": now, "exp": now + 300,
              "jti": str(uuid.uuid4())}  # fmt: skip
    return jwt.encode(claims, key, "ES384", headers={"kid": kid})


@dataclass
class TwoIssuers:
    server: load.Server
    hanging: JwksEndpoint
    healthy: JwksEndpoint
    healthy_key: ec.EllipticCurvePrivateKey


@contextmanager
def two_issuer_server(folder: Path, *, jwks_timeout_s: float, workers: int) -> Iterator[TwoIssuers]:
    """gunicorn (the repo's config) trusting a hanging and a healthy JWKS URL."""
    healthy_key = ec.generate_private_key(ec.SECP384R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(healthy_key.public_key()))
    public.update({"kid": HEALTHY_KID, "alg": "ES384", "use": "sig"})
    with (
        jwks_endpoint({"keys": []}, hanging=True) as hanging,
        jwks_endpoint({"keys": [public]}, hanging=False) as healthy,
    ):
        issuers = folder / "issuers.json"
        issuers.write_text(json.dumps({HANGING_ISSUER: {"jwks_url": hanging.url},
                                       HEALTHY_ISSUER: {"jwks_url": healthy.url}}))  # fmt: skip
        port = load.free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
        env.update({
            "CDS_HOST": "127.0.0.1", "CDS_PORT": str(port),
            "CDS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "CDS_DATABASE_URL": f"sqlite:///{folder / 'jdm-cds.sqlite3'}",
            "CDS_AUTH_REQUIRED": "true", "CDS_AUTH_ISSUERS_FILE": str(issuers),
            "CDS_AUTH_JWKS_TIMEOUT_S": str(jwks_timeout_s), "CDS_LOG_LEVEL": "ERROR",
            "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
        })  # fmt: skip
        if workers:
            env["CDS_WORKERS"] = str(workers)
        (folder / "metrics").mkdir(exist_ok=True)
        log_path = folder / "server.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "-c", str(load.GUNICORN_CONF),
                 load.WSGI_APP],
                cwd=folder, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        database = folder / "jdm-cds.sqlite3"
        server = load.Server(process, f"http://127.0.0.1:{port}", database, None, log_path)
        try:
            load._wait_ready(server)
            yield TwoIssuers(server, hanging, healthy, healthy_key)
        finally:
            load.stop(server, signal.SIGTERM)


def run_jwks_outage(
    folder: Path,
    *,
    duration_s: float,
    bad_clients: int = 20,
    good_clients: int = 2,
    jwks_timeout_s: float = 3.0,
    workers: int = 0,
) -> dict[str, Any]:
    with two_issuer_server(folder, jwks_timeout_s=jwks_timeout_s, workers=workers) as running:
        return _drive(running, duration_s, bad_clients, good_clients)


def _drive(
    running: TwoIssuers, duration_s: float, bad_clients: int, good_clients: int
) -> dict[str, Any]:
    hanging, healthy, healthy_key = running.hanging, running.healthy, running.healthy_key
    audience = running.server.base_url + SERVICE_PATH
    now = datetime.now(UTC).replace(microsecond=0)
    body = generate.hook_request(generate.generate_record(50, now, patient_id="j-1"), "j-1")
    good, bad = load.Tally(), load.Tally()
    bad_statuses: Counter[str] = Counter()
    started_hits = hanging.hits

    def call(session: requests.Session, token: str) -> tuple[float, str]:
        began = time.perf_counter()
        try:
            response = session.post(audience, json=body, timeout=60,
                                    headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            outcome = str(response.status_code)
        except requests.RequestException as exc:
            outcome = type(exc).__name__
        return (time.perf_counter() - began) * 1000, outcome

    with requests.Session() as session:  # every worker answers a valid call before the clock
        for _ in range(10):
            call(session, _token(healthy_key, HEALTHY_ISSUER, HEALTHY_KID, audience))
    stop_at = time.monotonic() + duration_s

    def bad_client(_: int) -> None:
        forger = ec.generate_private_key(ec.SECP384R1())
        with requests.Session() as session:
            while time.monotonic() < stop_at:
                kid = f"made-up-{uuid.uuid4().hex[:8]}"
                elapsed, outcome = call(session, _token(forger, HANGING_ISSUER, kid, audience))
                bad.add("bad", elapsed, None if outcome == "401" else outcome)
                with bad.lock:
                    bad_statuses[outcome] += 1

    def good_client(_: int) -> None:
        with requests.Session() as session:
            while time.monotonic() < stop_at:
                token = _token(healthy_key, HEALTHY_ISSUER, HEALTHY_KID, audience)
                elapsed, outcome = call(session, token)
                good.add("good", elapsed, None if outcome == "200" else outcome)

    threads = [threading.Thread(target=bad_client, args=(i,)) for i in range(bad_clients)]
    threads += [threading.Thread(target=good_client, args=(i,)) for i in range(good_clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _report(good, bad, bad_statuses, hanging.hits - started_hits, healthy.hits, duration_s)


def _report(
    good: load.Tally,
    bad: load.Tally,
    bad_statuses: Counter[str],
    hanging_fetches: int,
    healthy_fetches: int,
    duration_s: float,
) -> dict[str, Any]:
    def figures(tally: load.Tally) -> dict[str, Any]:
        values = tally.latencies_ms
        return {
            "calls": len(values),
            "errors": len(tally.errors),
            "error_samples": sorted(set(tally.errors))[:5],
            "p50_ms": round(load.percentile(values, 0.50), 1),
            "p99_ms": round(load.percentile(values, 0.99), 1),
            "max_ms": round(max(values, default=0.0), 1),
        }

    return {
        "mode": "jwks-outage",
        "duration_s": duration_s,
        "valid_calls_other_issuer": figures(good),
        "bad_token_calls": {**figures(bad), "statuses": dict(bad_statuses)},
        "hanging_jwks_fetches_during_run": hanging_fetches,
        "healthy_jwks_fetches": healthy_fetches,
        "target_p99_ms": 1000,
    }
