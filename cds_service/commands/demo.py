"""`jdm-cds demo`: load the synthetic patients, shifted to today, into a FHIR server.

Without ``--fhir-server`` it starts the test FHIR server (sekmet, from ``.fhir-venv``) on a free
loopback port with a throw-away data folder, loads the patients, prints the URLs and curl lines
to try against ``make run``, and keeps the FHIR server up until Ctrl-C. With ``--fhir-server``
(e.g. the compose stack's HAPI) it waits for that server, loads, prints, and exits.

The fixtures are dated relative to a fixed clock (:data:`FIXTURES_NOW`); every date is moved by
whole days so the newest data sits where it sat relative to that clock, but today.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from cds_service.config import REPO_ROOT

FIXTURES_NOW = datetime.fromisoformat("2026-03-15T10:00:00+13:00")  # fhir_fixtures' clock
DEFAULT_FIXTURES = REPO_ROOT / "fhir_fixtures" / "patients"
SERVICE_ID = "jdm-ivig"
FHIR_JSON = "application/fhir+json"


class DemoError(RuntimeError):
    """The demo could not load its patients; the message says what to do."""


class RefusedBundle(DemoError):
    """The FHIR server refused one fixture (4xx): the others may still load."""


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def shift_delta(today: datetime, fixtures_now: datetime = FIXTURES_NOW) -> timedelta:
    """Whole days from the fixtures' clock to `today`, so times of day stay as written."""
    return timedelta(days=(today.date() - fixtures_now.date()).days)


def load_bundles(folder: Path, delta: timedelta) -> list[dict[str, Any]]:
    from cds_service.commands.timeshift import shift_resources  # the history package's date shifter

    paths = sorted(folder.glob("*.bundle.json"))
    if not paths:
        raise DemoError(f"no *.bundle.json in {folder}")
    bundles = []
    for path in paths:
        bundle = json.loads(path.read_text())
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
            raise DemoError(f"{path.name}: not a transaction Bundle")
        shifted: dict[str, Any] = shift_resources(bundle, delta)
        shifted["id"] = path.name.removesuffix(".bundle.json")
        bundles.append(shifted)
    return bundles


def patient_ids(bundle: dict[str, Any]) -> list[str]:
    return [
        str(entry["resource"]["id"])
        for entry in bundle.get("entry", [])
        if entry.get("resource", {}).get("resourceType") == "Patient"
    ]


def wait_for_fhir(base_url: str, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            response = requests.get(f"{base_url}/metadata", timeout=5)
            if response.status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise DemoError(f"{base_url}/metadata did not answer 200 within {wait_s:.0f} s")
        time.sleep(2)


def post_transaction(base_url: str, bundle: dict[str, Any]) -> None:
    response = requests.post(
        base_url,
        data=json.dumps(bundle),
        headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON},
        timeout=120,
    )
    if 400 <= response.status_code < 500:
        raise RefusedBundle(f"HTTP {response.status_code}: {response.text[:200]}")
    if response.status_code >= 300:
        raise DemoError(
            f"loading {bundle['id']}: HTTP {response.status_code} from {base_url}: "
            f"{response.text[:300]}"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def sekmet_executable() -> Path:
    configured = os.environ.get("JDM_CDS_SEKMET")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO_ROOT / ".fhir-venv" / "bin" / "sekmet")
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise DemoError(
        "sekmet not found: run `make test` once (it creates .fhir-venv) or pass --fhir-server"
    )


@contextmanager
def local_sekmet() -> Iterator[str]:
    """A sekmet FHIR server on a free loopback port; yields its base URL; stops it after."""
    data_dir = Path(tempfile.mkdtemp(prefix="jdm-cds-demo-"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/fhir"
    settings = (
        f"base_url: {base_url}\nhost: 127.0.0.1\nport: {port}\ndata_dir: {data_dir / 'data'}\n"
        "log_inbound: false\nsimulator:\n  enabled: false\n"
    )
    (data_dir / "settings.yaml").write_text(settings)
    log = (data_dir / "sekmet.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - a fixed executable and arguments
        [str(sekmet_executable()), "serve", "-c", str(data_dir / "settings.yaml")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def print_instructions(
    fhir_base: str, loaded: Sequence[tuple[str, list[str]]], service_url: str, issuer: Path | None
) -> None:
    endpoint = f"{service_url}/cds-services/{SERVICE_ID}"
    say(f"FHIR server: {fhir_base}")
    say(f"Discovery:   {service_url}/cds-services")
    auth = ""
    if issuer is not None:
        say("Token (5 minutes; one per call, the service refuses a reused jti):")
        say(f"  TOKEN=$(jdm-cds demo-token --demo-issuer {issuer} --audience {endpoint})")
        auth = ' -H "Authorization: Bearer $TOKEN"'
    for fixture, ids in loaded:
        for patient_id in ids:
            body = json.dumps(
                {
                    "hook": "patient-view",
                    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                    "fhirServer": fhir_base,
                    "context": {"userId": "Practitioner/demo", "patientId": patient_id},
                }
            )
            say(f"\n# {fixture}: Patient/{patient_id}")
            say(f"curl -s{auth} -H 'Content-Type: application/json' -d '{body}' {endpoint}")


def load_all(fhir_base: str, folder: Path, fixtures_now: datetime) -> list[tuple[str, list[str]]]:
    delta = shift_delta(datetime.now(UTC), fixtures_now)
    loaded = []
    for bundle in load_bundles(folder, delta):
        try:
            post_transaction(fhir_base, bundle)
        except RefusedBundle as refused:
            # e.g. the "hostile" fixture: deliberately invalid resources a FHIR server rejects
            say(f"skipped {bundle['id']}: {refused}")
            continue
        loaded.append((str(bundle["id"]), patient_ids(bundle)))
        say(f"loaded {bundle['id']}: {len(bundle.get('entry', []))} resources")
    if not loaded:
        raise DemoError(f"{fhir_base} accepted none of the fixtures")
    return loaded


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="load the synthetic patients (shifted to today) into a FHIR server",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--fhir-server", help="FHIR base URL (default: start sekmet locally)")
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=Path(os.environ.get("JDM_CDS_FIXTURES_DIR", DEFAULT_FIXTURES)),
        help="folder of *.bundle.json transaction Bundles",
    )
    parser.add_argument("--fixtures-now", type=datetime.fromisoformat, default=FIXTURES_NOW)
    parser.add_argument("--wait-s", type=float, default=60, help="wait this long for the server")
    parser.add_argument("--no-serve", action="store_true", help="exit once loaded")
    parser.add_argument("--demo-issuer", type=Path, help="create/keep a demo JWT issuer here")
    parser.add_argument("--service-url", default="http://127.0.0.1:8080", help="for the curl lines")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    issuer = args.demo_issuer
    if issuer is not None:
        from cds_service.commands.demo_token import ensure_demo_issuer

        say(f"demo issuer: {ensure_demo_issuer(issuer)}")
    try:
        if args.fhir_server:
            base = args.fhir_server.rstrip("/")
            wait_for_fhir(base, args.wait_s)
            print_instructions(base, load_all(base, args.fixtures, args.fixtures_now),
                               args.service_url, issuer)  # fmt: skip
            return 0
        if args.no_serve:
            raise DemoError("--no-serve needs --fhir-server (a local sekmet stops when we exit)")
        with local_sekmet() as base:
            wait_for_fhir(base, args.wait_s)
            loaded = load_all(base, args.fixtures, args.fixtures_now)
            print_instructions(base, loaded, args.service_url, issuer)
            say("\nstart the service in another terminal: make run   (Ctrl-C here stops sekmet)")
            while True:
                time.sleep(3600)
    except DemoError as error:
        sys.stderr.write(f"jdm-cds demo: {error}\n")
        return 1
    except KeyboardInterrupt:
        return 0
