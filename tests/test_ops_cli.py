"""`jdm-cds evaluate`, `jdm-cds demo` and `jdm-cds demo-token`, run as a user would run them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir_server import SekmetServer, closed_port
from flask import Flask
from hook_requests import patient_view

from cds_service.commands.cli import main
from cds_service.commands.demo import FIXTURES_NOW, shift_delta
from cds_service.commands.demo_token import demo_token, ensure_demo_issuer

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "fhir_fixtures" / "patients" / "seed-case.bundle.json"
SEED_PATIENT = "seed-jdm"
FIXTURE_CLOCK = "2026-03-15T10:00:00+13:00"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_evaluate_prints_the_ivig_card_with_its_dose_and_evidence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, "evaluate", str(SEED), "--now", FIXTURE_CLOCK)
    assert code == 0
    assert out.startswith(f"Patient/{SEED_PATIENT} at 2026-03-15T10:00:00+13:00")
    ivig = next(line for line in out.splitlines() if "topic: ivig-start" in line)
    card_start = out.index(ivig)
    summary_line = out[:card_start].rstrip().splitlines()[-1]
    # the seed child weighs 26 kg (Observation of 2026-03-10): 2 g/kg x 26 kg = 52 g
    assert "[CRITICAL]" in summary_line and "52 g per course" in summary_line
    card_text = out[card_start:]
    assert "**Why**" in card_text
    assert "2 g/kg × 26 kg (weight of 2026-03-10) = **52 g per course**" in card_text
    assert "- weight_kg: 26.0 kg (2026-03-10) - Observation/" in card_text  # the evidence
    assert "\\_" not in out


def test_evaluate_json_is_the_hook_response(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "evaluate", str(SEED), "--now", FIXTURE_CLOCK, "--json")
    assert code == 0
    cards = json.loads(out)["cards"]
    topics = [card["source"]["topic"]["code"] for card in cards]
    assert "ivig-start" in topics
    ivig = cards[topics.index("ivig-start")]
    assert "52 g" in ivig["summary"]


def test_evaluate_reads_a_hook_request_and_takes_its_patient(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bundle = json.loads(SEED.read_text())
    resources = [entry["resource"] for entry in bundle["entry"]]
    prefetch = {
        "patient": next(r for r in resources if r["resourceType"] == "Patient"),
        "everything": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources if r["resourceType"] != "Patient"],
        },
    }
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(patient_view(SEED_PATIENT, prefetch=prefetch)))
    code, out, _ = run_cli(capsys, "evaluate", str(request_file), "--now", FIXTURE_CLOCK, "--json")
    assert code == 0
    assert "ivig-start" in [c["source"]["topic"]["code"] for c in json.loads(out)["cards"]]


def test_evaluate_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(capsys, "evaluate", str(tmp_path / "missing.json"))
    assert (code, out) == (2, "")
    assert err.startswith("jdm-cds evaluate:") and "no such file" in err
    two = tmp_path / "two.json"
    two.write_text(json.dumps([{"resourceType": "Patient", "id": "a"},
                               {"resourceType": "Patient", "id": "b"}]))  # fmt: skip
    code, _, err = run_cli(capsys, "evaluate", str(two))
    assert code == 2 and "--patient" in err
    code, _, err = run_cli(capsys, "evaluate", str(SEED), "--now", "2026-03-15T10:00")
    assert code == 2 and "offset" in err


def test_demo_loads_shifted_patients_and_prints_the_calls(
    capsys: pytest.CaptureFixture[str], fhir_server: SekmetServer, tmp_path: Path
) -> None:
    issuer = tmp_path / "issuer"
    code, out, err = run_cli(
        capsys, "demo", "--fhir-server", fhir_server.base_url, "--no-serve", "--wait-s", "20",
        "--demo-issuer", str(issuer), "--service-url", "http://127.0.0.1:8091",
    )  # fmt: skip
    assert code == 0, err
    assert "loaded seed-case" in out
    assert "skipped hostile: HTTP 4" in out  # deliberately invalid resources: refused
    assert f'"patientId": "{SEED_PATIENT}"' in out
    assert "jdm-cds demo-token --demo-issuer" in out
    assert "http://127.0.0.1:8091/cds-services/jdm-ivig" in out

    original = next(
        e["resource"] for e in json.loads(SEED.read_text())["entry"]
        if e["resource"]["resourceType"] == "Patient"
    )  # fmt: skip
    stored = fhir_server.request("GET", f"Patient/{SEED_PATIENT}")
    days = (datetime.now(UTC).date() - FIXTURES_NOW.date()).days
    expected_birth = date.fromisoformat(original["birthDate"]) + timedelta(days=days)
    assert stored["birthDate"] == expected_birth.isoformat()


def test_demo_fails_clearly_when_the_fhir_server_is_down(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/fhir"
    code, _out, err = run_cli(capsys, "demo", "--fhir-server", dead, "--no-serve", "--wait-s", "1")
    assert code == 1
    assert "did not answer" in err


def test_shift_moves_whole_days_to_today() -> None:
    today = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert shift_delta(today) == timedelta(days=(date(2026, 11, 25) - date(2026, 3, 15)).days)


def test_a_demo_token_passes_the_services_auth_once(
    make_app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issuers = ensure_demo_issuer(tmp_path / "issuer")
    assert ensure_demo_issuer(tmp_path / "issuer") == issuers  # idempotent: same key kept
    assert (tmp_path / "issuer" / "private-key.pem").stat().st_mode & 0o077 == 0
    # a real clock: the token's iat/exp are real times
    app: Flask = make_app(
        clock=lambda: datetime.now(UTC), auth_required=True, auth_issuers_file=str(issuers)
    )
    base_url = app.extensions["jdm_cds"].settings.public_base_url
    client = app.test_client()
    audience = f"{base_url}/cds-services"
    code, token, _ = run_cli(capsys, "demo-token", "--demo-issuer", str(tmp_path / "issuer"),
                             "--audience", audience)  # fmt: skip
    assert code == 0
    headers = {"Authorization": f"Bearer {token.strip()}"}
    assert client.get("/cds-services", headers=headers).status_code == 200
    assert client.get("/cds-services", headers=headers).status_code == 401  # jti replayed
    other = demo_token(tmp_path / "issuer", f"{base_url}/cds-services/other")
    answer = client.get("/cds-services", headers={"Authorization": f"Bearer {other}"})
    assert answer.status_code == 401  # wrong audience
    assert client.get("/cds-services").status_code == 401


def test_demo_token_without_an_issuer_says_what_to_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(
        capsys, "demo-token", "--demo-issuer", str(tmp_path), "--audience", "x"
    )
    assert (code, out) == (2, "")
    assert "jdm-cds demo --demo-issuer" in err


@pytest.mark.parametrize("path", ["/readyz", "/metrics"])
def test_operations_endpoints_need_no_token_when_auth_is_on(
    make_app: Any, tmp_path: Path, path: str
) -> None:
    issuers = ensure_demo_issuer(tmp_path / "issuer")
    client = make_app(auth_required=True, auth_issuers_file=str(issuers)).test_client()
    assert client.get(path).status_code == 200
