"""Servers the benchmark starts on free loopback ports, and their workers' memory.

- jdm-cds under gunicorn with the SHIPPED config (cds_service/serving/gunicorn_conf.py), auth
  on with a throw-away demo issuer, a temp SQLite store;
- the HealthChain peer under uvicorn in ``.peer-venv``, with the same number of workers;
- sekmet (the test FHIR server) for the fetch path.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Running:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def worker_pids(self) -> list[int]:
        return descendants(self.process.pid)

    def peak_rss_mb(self) -> dict[int, float]:
        """Each worker's peak resident set (VmHWM) so far, in MB."""
        return {pid: peak for pid in self.worker_pids() if (peak := vm_hwm_mb(pid)) is not None}


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], list(children.get(pid, []))
    while queue:
        child = queue.pop()
        found.append(child)
        queue.extend(children.get(child, []))
    return found


def vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited; see {log_path}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not up after 90 s; see {log_path}")


@contextmanager
def serve(
    argv: list[str], env: Mapping[str, str], health_url: str, base_url: str, cwd: Path
) -> Iterator[Running]:
    """Run `argv` until `health_url` answers (below 500); terminated on leaving."""
    log_path = Path(tempfile.mkstemp(prefix="jdm-cds-bench-", suffix=".log")[1])
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdout=log, stderr=log)
        try:
            _wait_healthy(health_url, process, log_path)
            yield Running(base_url, process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def jdm_cds(workdir: Path, issuers_file: Path, workers: int | None = None) -> Iterator[Running]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "PROMETHEUS_"))}
    env.update(
        CDS_HOST="127.0.0.1",
        CDS_PORT=str(port),
        CDS_PUBLIC_BASE_URL=base_url,
        CDS_DATABASE_URL=f"sqlite:///{workdir / 'store.sqlite3'}",
        CDS_AUTH_REQUIRED="true",
        CDS_AUTH_ISSUERS_FILE=str(issuers_file),
        CDS_LOG_LEVEL="WARNING",
    )
    if workers:
        env["CDS_WORKERS"] = str(workers)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    argv = [str(gunicorn), "-c", "cds_service/serving/gunicorn_conf.py"]
    with serve(argv, env, f"{base_url}/healthz", base_url, ROOT) as running:
        _wait_for_all_workers(running)
        yield running


def _wait_for_all_workers(running: Running, settle_s: float = 2.0) -> None:
    """Healthy means one worker answers; wait until the worker count stops growing."""
    deadline = time.monotonic() + 60
    count, stable_since = len(running.worker_pids()), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - stable_since < settle_s:
        time.sleep(0.2)
        now_count = len(running.worker_pids())
        if now_count != count:
            count, stable_since = now_count, time.monotonic()


@contextmanager
def healthchain_peer(workers: int) -> Iterator[Running]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/cds"
    uvicorn = ROOT / ".peer-venv" / "bin" / "uvicorn"
    if not uvicorn.exists():
        raise RuntimeError("no .peer-venv: run `make bench` (it creates it)")
    argv = [
        str(uvicorn), "--app-dir", str(ROOT / "bench" / "peer"), "app:app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    with serve(argv, env, f"{base_url}/cds-discovery", base_url, ROOT) as running:
        _wait_for_all_workers(running)
        yield running


def sekmet_executable() -> Path:
    for candidate in (
        os.environ.get("JDM_CDS_SEKMET"),
        str(ROOT / ".fhir-venv" / "bin" / "sekmet"),
    ):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise RuntimeError("sekmet not found: run `make fhir-server` or set JDM_CDS_SEKMET")


@contextmanager
def sekmet(workdir: Path) -> Iterator[Running]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/fhir"
    settings = workdir / "sekmet.yaml"
    settings.write_text(
        f"base_url: {base_url}\nhost: 127.0.0.1\nport: {port}\n"
        f"data_dir: {workdir / 'sekmet-data'}\nlog_inbound: false\nsimulator:\n  enabled: false\n"
    )
    argv = [str(sekmet_executable()), "serve", "-c", str(settings)]
    with serve(argv, os.environ, f"{base_url}/metadata", base_url, workdir) as running:
        yield running
