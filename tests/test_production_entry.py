"""The production entry point `jdm-cds serve`: auth on by default, and no start without a
trusted issuer (the message says how to fix it)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from jwt_helpers import ISSUER, ec_key, jwks_document, write_issuers_file

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]


def serve_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    env.update(
        CDS_PORT=str(port),
        CDS_WORKERS="1",
        CDS_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
        **extra,
    )
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cds_service.commands.cli", "serve"],
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def test_serve_refuses_to_start_without_a_trusted_issuer(tmp_path: Path) -> None:
    process = serve(serve_env(tmp_path, free_port()), tmp_path)
    output, _ = process.communicate(timeout=90)
    assert process.returncode != 0
    assert "no trusted issuer is configured" in output
    assert "CDS_AUTH_ISSUERS_FILE" in output  # says how to fix it


def test_serve_requires_a_token_by_default(tmp_path: Path) -> None:
    key = ec_key()
    (tmp_path / "jwks.json").write_text(json.dumps(jwks_document(key)))
    issuers = write_issuers_file(tmp_path, {ISSUER: {"jwks_file": "jwks.json"}})
    port = free_port()
    process = serve(serve_env(tmp_path, port, CDS_AUTH_ISSUERS_FILE=str(issuers)), tmp_path)
    try:
        status = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = requests.get(f"http://127.0.0.1:{port}/cds-services", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):  # still starting (a loaded CI)
                time.sleep(0.3)
        assert status is not None, "the server did not come up"
        assert status.status_code == 401
        assert status.headers["WWW-Authenticate"] == 'Bearer realm="jdm-cds"'
    finally:
        process.terminate()
        process.communicate(timeout=30)
