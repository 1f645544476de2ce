"""`/metrics` (Prometheus) and `/readyz`, over real HTTP: the Flask client, a live gunicorn
with the shipped config (multiprocess metrics), a real FHIR server and a real PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fhir_server import SekmetServer, closed_port, free_port
from flask import Flask
from hook_requests import patient_view
from postgres_server import find_bin_dir, start_postgres
from prometheus_client.parser import text_string_to_metric_families

from cds_service.web.state import state

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "jdm-ivig"


def sample(metrics_text: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when absent: a counter never incremented is not shown)."""
    for family in text_string_to_metric_families(metrics_text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


def scrape(client: Any) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return str(response.get_data(as_text=True))


def prefetch_keys(app: Flask) -> list[str]:
    return list(state(app).registry.get(SERVICE).prefetch)


def test_readyz_says_ready_when_knowledge_and_database_are_there(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "ready": True,
        "checks": {"knowledge": "loaded", "database": "ok"},
    }


@pytest.mark.postgres
def test_readyz_is_503_when_the_database_goes_away(make_app: Callable[..., Flask]) -> None:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries are not installed")
    server = start_postgres(bin_dir)  # our own: this test stops it
    try:
        client = make_app(database_url=server.create_database()).test_client()
        assert client.get("/readyz").status_code == 200
    finally:
        server.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "error"
    assert response.get_json()["ready"] is False


def test_a_service_call_is_counted_by_service_status_and_prefetch_outcome(app: Flask) -> None:
    client = app.test_client()
    keys = prefetch_keys(app)
    assert "patient" in keys and len(keys) > 2
    prefetch: dict[str, Any] = {key: None for key in keys}
    prefetch["patient"] = {"resourceType": "Patient", "id": "m-1", "birthDate": "2016-05-01"}
    before = scrape(client)
    response = client.post(f"/cds-services/{SERVICE}", json=patient_view("m-1", prefetch=prefetch))
    assert response.status_code == 200
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("jdm_cds_http_requests_total", service=SERVICE, status="200") == 1
    assert delta("jdm_cds_http_request_duration_seconds_count", service=SERVICE, status="200") == 1
    assert delta("jdm_cds_prefetch_keys_total", service=SERVICE, outcome="hit") == 1
    assert delta("jdm_cds_prefetch_keys_total", service=SERVICE, outcome="null") == len(keys) - 1
    assert delta("jdm_cds_prefetch_keys_total", service=SERVICE, outcome="fetched") == 0
    cards = response.get_json()["cards"]
    for topic in {card["source"]["topic"]["code"] for card in cards}:
        expected = sum(1 for c in cards if c["source"]["topic"]["code"] == topic)
        assert delta("jdm_cds_cards_total", service=SERVICE, topic=topic) == expected


def test_unknown_service_ids_do_not_become_labels(app: Flask) -> None:
    client = app.test_client()
    before = scrape(client)
    assert client.post("/cds-services/no-such-1234", json={}).status_code == 404
    after = scrape(client)
    assert "no-such-1234" not in after
    name = "jdm_cds_http_requests_total"
    assert (
        sample(after, name, service="unknown-service", status="404")
        - sample(before, name, service="unknown-service", status="404")
        == 1
    )


def test_fhir_calls_are_timed_and_failures_counted(app: Flask, fhir_server: SekmetServer) -> None:
    patient = {"resourceType": "Patient", "id": "metrics-p1", "birthDate": "2016-05-01"}
    fhir_server.load(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"resource": patient, "request": {"method": "PUT", "url": "Patient/metrics-p1"}}
            ],
        }
    )
    client = app.test_client()
    before = scrape(client)
    fetched = client.post(
        f"/cds-services/{SERVICE}",
        json=patient_view("metrics-p1", fhir_server=fhir_server.base_url),
    )
    assert fetched.status_code == 200
    dead = f"http://127.0.0.1:{closed_port()}/fhir"
    refused = client.post(
        f"/cds-services/{SERVICE}", json=patient_view("metrics-p1", fhir_server=dead)
    )
    assert refused.status_code == 412
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    timed = "jdm_cds_fhir_call_duration_seconds_count"
    assert delta(timed, resource_type="Patient") == 2  # one answered, one refused
    assert delta(timed, resource_type="Observation") >= 2
    assert delta("jdm_cds_fhir_call_errors_total", resource_type="Patient", status="none") == 1
    assert delta("jdm_cds_fhir_call_errors_total", resource_type="Patient", status="200") == 0
    keys = len(prefetch_keys(app))
    assert delta("jdm_cds_prefetch_keys_total", service=SERVICE, outcome="fetched") == keys
    assert delta("jdm_cds_http_requests_total", service=SERVICE, status="412") == 1


@pytest.fixture
def live_gunicorn(tmp_path: Path) -> Iterator[str]:
    """The production server with the shipped config: 2 workers, auth off, temp SQLite."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CDS_")},
        "CDS_HOST": "127.0.0.1",
        "CDS_PORT": str(port),
        "CDS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "CDS_WORKERS": "2",
        "CDS_THREADS": "1",
        "CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "-c", "cds_service/serving/gunicorn_conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, "gunicorn exited during startup"
            assert time.monotonic() < deadline, "gunicorn did not become healthy in 60 s"
            time.sleep(0.2)
        yield base_url
    finally:
        process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        process.wait(timeout=30)


@pytest.mark.server
def test_gunicorn_workers_share_one_metrics_view(live_gunicorn: str) -> None:
    calls = 16
    for _ in range(calls):
        # a new connection each time, so the requests spread over the workers
        assert requests.get(f"{live_gunicorn}/cds-services", timeout=5).status_code == 200
    counted = [
        sample(
            requests.get(f"{live_gunicorn}/metrics", timeout=5).text,
            "jdm_cds_http_requests_total",
            service="discovery",
            status="200",
        )
        for _ in range(4)  # whichever worker answers /metrics, it reports every worker's count
    ]
    assert counted == [calls] * 4
    assert requests.get(f"{live_gunicorn}/readyz", timeout=5).status_code == 200
