"""The compose stack's wiring without Docker: two `jdm-cds serve` replicas (gunicorn, auth on)
on ONE PostgreSQL, the patients loaded into a FHIR server by `jdm-cds demo`, tokens from the
demo issuer. Proves scale-out: a token used on one replica is refused by the other, and both
answer the seed case with the IVIG card fetched from the FHIR server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests
from fhir_server import SekmetServer, free_port
from postgres_server import PostgresServer

from cds_service.commands.cli import main
from cds_service.commands.demo_token import KEY_ID, _load_private_key, demo_token

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "jdm-ivig"

pytestmark = pytest.mark.postgres


def start_replica(database_url: str, issuers_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "PROMETHEUS_"))}
    env.update(
        CDS_HOST="127.0.0.1",
        CDS_PORT=str(port),
        CDS_PUBLIC_BASE_URL=base_url,
        CDS_WORKERS="1",  # two replicas on a 2-core box: one worker each is plenty here
        CDS_THREADS="2",
        CDS_DATABASE_URL=database_url,
        CDS_AUTH_REQUIRED="true",
        CDS_AUTH_ISSUERS_FILE=str(issuers_file),
        CDS_LOG_LEVEL="WARNING",
    )
    jdm_cds = Path(sys.executable).parent / "jdm-cds"
    process = subprocess.Popen(
        [str(jdm_cds), "serve"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return process, base_url


def wait_ready(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + 180  # startup loads and validates the knowledge base
    while time.monotonic() < deadline:
        assert process.poll() is None, "jdm-cds serve exited during startup"
        try:
            if requests.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    pytest.fail(f"{base_url} not ready in 180 s")


@pytest.fixture
def stack(
    postgres_server: PostgresServer, fhir_server: SekmetServer, tmp_path: Path
) -> Iterator[tuple[list[str], Path]]:
    issuer = tmp_path / "demo-issuer"
    code = main(["demo", "--fhir-server", fhir_server.base_url, "--no-serve",
                 "--wait-s", "20", "--demo-issuer", str(issuer)])  # fmt: skip
    assert code == 0
    database_url = postgres_server.create_database()
    replicas = [start_replica(database_url, issuer / "issuers.json") for _ in range(2)]
    try:
        for process, base_url in replicas:
            wait_ready(process, base_url)
        yield [base_url for _process, base_url in replicas], issuer
    finally:
        for process, _base_url in replicas:
            process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        for process, _base_url in replicas:
            process.wait(timeout=30)


def test_two_replicas_share_the_store_and_answer_from_the_fhir_server(
    stack: tuple[list[str], Path], fhir_server: SekmetServer
) -> None:
    (first, second), issuer = stack
    body = {
        "hook": "patient-view",
        "hookInstance": "4f0e2a39-8a55-4c1e-9d0b-2f7d1c3a6b11",
        "fhirServer": fhir_server.base_url,
        "context": {"userId": "Practitioner/demo", "patientId": "seed-jdm"},
    }
    for base_url in (first, second):
        url = f"{base_url}/cds-services/{SERVICE}"
        token = demo_token(issuer, url)
        answer = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"},
                               timeout=30)  # fmt: skip
        assert answer.status_code == 200, answer.text[:300]
        cards = answer.json()["cards"]
        ivig = [c for c in cards if c["source"]["topic"]["code"] == "ivig-start"]
        assert len(ivig) == 1 and "52 g" in ivig[0]["summary"]
    # One jti used on the first replica, then replayed on the OTHER one (its own audience,
    # signed by the same issuer): refused, because the replicas share one replay store.
    shared_audience = f"{first}/cds-services"
    token = demo_token(issuer, shared_audience)
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(shared_audience, headers=headers, timeout=10).status_code == 200
    claims = jwt.decode(token, options={"verify_signature": False})
    replay = jwt.encode(
        {**claims, "aud": f"{second}/cds-services"},
        _load_private_key(issuer / "private-key.pem"),
        algorithm="ES384",
        headers={"kid": KEY_ID, "typ": "JWT"},
    )
    refused = requests.get(f"{second}/cds-services", headers={"Authorization": f"Bearer {replay}"},
                           timeout=10)  # fmt: skip
    assert refused.status_code == 401
    assert "invalid_token" in refused.headers.get("WWW-Authenticate", "")
