"""nginx with the repository's proxy config (deploy/nginx/) on a free loopback port.

Used by the hostile-load scripts (bench/slow_clients.py, bench/heavy_calls.py) and by
tests/test_proxy.py. The config files are used as they are in the repository; only the two
files a deployment writes itself are generated here: ``upstream.conf`` (the gunicorn addresses)
and ``listen.conf`` (the port). nginx is Debian's package (``apt-get install nginx-light``);
:func:`nginx_executable` says where it is, or None.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONFIG_DIR = ROOT / "deploy" / "nginx"
CONFIG_FILES = ("nginx.conf", "json-errors.conf")
STARTUP_TIMEOUT_S = 20.0


def nginx_executable() -> Path | None:
    """nginx on PATH or where Debian puts it; None when it is not installed."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Proxy:
    process: subprocess.Popen[bytes]
    port: int
    prefix: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def write_config(prefix: Path, upstreams: Sequence[str], port: int) -> Path:
    """The repository's config files plus this run's upstream.conf and listen.conf, in
    ``prefix/conf``; returns the path of nginx.conf."""
    conf = prefix / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    for name in CONFIG_FILES:
        shutil.copyfile(NGINX_CONFIG_DIR / name, conf / name)
    servers = "".join(f"    server {address};\n" for address in upstreams)
    (conf / "upstream.conf").write_text(f"upstream jdm_cds {{\n{servers}    keepalive 32;\n}}\n")
    (conf / "listen.conf").write_text(f"listen 127.0.0.1:{port};\n")
    return conf / "nginx.conf"


@contextmanager
def running_proxy(prefix: Path, upstreams: Sequence[str]) -> Iterator[Proxy]:
    """nginx in front of ``upstreams`` ("127.0.0.1:8080", ...) until the block ends."""
    nginx = nginx_executable()
    if nginx is None:
        raise RuntimeError("nginx is not installed (Debian: apt-get install nginx-light)")
    port = free_port()
    config = write_config(prefix, upstreams, port)
    # As root, nginx would hand its workers to "nobody", who cannot enter a private temp folder.
    globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    log_path = prefix / "nginx.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(nginx), "-p", f"{prefix}/", "-c", str(config), "-g", globals_],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    proxy = Proxy(process, port, prefix, log_path)
    try:
        _wait_listening(proxy)
        yield proxy
    finally:
        _stop(process)


def _wait_listening(proxy: Proxy) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proxy.process.poll() is not None:
            raise RuntimeError(f"nginx exited: {proxy.log_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen within {STARTUP_TIMEOUT_S} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # nginx: fast shutdown
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
