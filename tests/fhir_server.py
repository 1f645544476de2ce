"""Start and stop a real FHIR server (sekmet-fhir) for tests, on a free port with a temp data dir.

sekmet runs from its own venv: ``.fhir-venv/bin/sekmet`` (``make test`` creates it), or the path
in ``JDM_CDS_SEKMET``. Usage::

    with SekmetServer.start(tmp_dir) as server:
        server.load(transaction_bundle)       # POST to the base
        requests.get(server.base_url + "/Patient/p1")
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SEKMET_ENV = "JDM_CDS_SEKMET"
STARTUP_TIMEOUT_S = 60.0


def sekmet_executable() -> Path:
    configured = os.environ.get(SEKMET_ENV)
    candidate = Path(configured) if configured else REPO_ROOT / ".fhir-venv" / "bin" / "sekmet"
    if not candidate.exists():
        raise FileNotFoundError(
            f"sekmet not found at {candidate}: run `make test` (it creates .fhir-venv with "
            f"sekmet-fhir==0.1.1) or set {SEKMET_ENV} to a sekmet executable"
        )
    return candidate


def free_port() -> int:
    """A port the OS just handed out (bound to 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


_HELD_CLOSED: list[socket.socket] = []  # closed at exit (atexit below)


def closed_port() -> int:
    """A loopback port with nothing listening (an outage, not a mock), and nothing that will: the
    port stays bound, not listening, by this process, so a connection to it is refused and no
    other test (nor another pytest-xdist worker) can start a server on it meanwhile."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    if not _HELD_CLOSED:
        atexit.register(lambda: [held.close() for held in _HELD_CLOSED])
    _HELD_CLOSED.append(holder)
    port: int = holder.getsockname()[1]
    return port


@dataclass
class SekmetServer:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    @classmethod
    @contextlib.contextmanager
    def start(cls, workdir: Path) -> Iterator[SekmetServer]:
        server = cls._launch(workdir)
        try:
            yield server
        finally:
            server.stop()

    @classmethod
    def _launch(cls, workdir: Path) -> SekmetServer:
        executable = sekmet_executable()
        last_error = ""
        for attempt in range(3):  # another process may grab the port between probe and bind
            port = free_port()
            run_dir = workdir / f"run-{attempt}"
            run_dir.mkdir(parents=True, exist_ok=True)
            settings = run_dir / "settings.yaml"
            settings.write_text(
                f"base_url: http://127.0.0.1:{port}/fhir\n"
                "host: 127.0.0.1\n"
                f"port: {port}\n"
                f"data_dir: {run_dir / 'data'}\n"
                "log_inbound: false\n"
                "simulator: {enabled: false}\n",
                encoding="utf-8",
            )
            log_file = (run_dir / "sekmet.log").open("wb")
            process = subprocess.Popen(
                [str(executable), "serve", "-c", str(settings)],
                cwd=run_dir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log_file.close()
            server = cls(process, port, run_dir)
            if server._wait_ready():
                return server
            server.stop()
            last_error = (run_dir / "sekmet.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"sekmet did not start; last log:\n{last_error}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.base_url}/metadata", timeout=2) as answer:
                    if answer.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def load(self, bundle: Mapping[str, Any]) -> dict[str, Any]:
        """POST a transaction Bundle to the base; raise unless every entry succeeded."""
        answer = self.request("POST", "", bundle)
        failed = [
            entry.get("response", {}).get("status", "")
            for entry in answer.get("entry", [])
            if not str(entry.get("response", {}).get("status", "")).startswith("2")
        ]
        if answer.get("resourceType") != "Bundle" or failed:
            raise RuntimeError(f"transaction failed: {failed or answer}")
        return answer

    def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        url = f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        data = json.dumps(body).encode() if body is not None else None
        outgoing = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/fhir+json"}
        )
        with urllib.request.urlopen(outgoing, timeout=30) as answer:
            result: dict[str, Any] = json.loads(answer.read())
            return result

    def search_all(self, relative_url: str) -> list[dict[str, Any]]:
        """Every page of a search, following ``next`` links (as a paging EHR would)."""
        pages = [self.request("GET", relative_url)]
        while True:
            links = {link["relation"]: link["url"] for link in pages[-1].get("link", [])}
            if "next" not in links:
                return pages
            with urllib.request.urlopen(links["next"], timeout=30) as answer:
                pages.append(json.loads(answer.read()))
