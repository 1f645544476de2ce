"""`jdm-cds history` through cli.main, and timeshift."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from history_helpers import PATIENTS_DIR, load_bundle

from cds_service.commands.cli import main
from cds_service.commands.timeshift import shift_resources, shift_value

NOW = "2026-03-15T10:00:00+13:00"


def test_cli_prints_a_readable_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["history", str(PATIENTS_DIR / "seed-case.bundle.json"), "--now", NOW])
    out = capsys.readouterr().out
    assert code == 0
    assert "IV methylprednisolone pulses: 3" in out
    assert "Methotrexate: 4 given, 0 expected" in out
    assert "30 mg/kg -> 792 mg intravenous" in out


def test_cli_json_is_the_golden_form(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["history", str(PATIENTS_DIR / "responding.bundle.json"), "--now", NOW]
    assert main([*args, "--tz", "Pacific/Auckland", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    golden = json.loads((PATIENTS_DIR / "responding.history.json").read_text())
    assert printed == golden


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--now", "yesterday"], "not an ISO 8601 time"),
        (["--now", "2026-03-15T10:00:00"], "needs an offset"),
        (["--now", NOW, "--tz", "Mars/Olympus"], "not a known time zone"),
    ],
)
def test_cli_bad_arguments_are_clear(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", str(PATIENTS_DIR / "seed-case.bundle.json"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_cli_needs_patient_when_the_file_has_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both = tmp_path / "two.json"
    both.write_text(json.dumps([load_bundle("seed-case"), load_bundle("responding")]))
    assert main(["history", str(both), "--now", NOW]) == 2
    assert "--patient" in capsys.readouterr().err
    assert main(["history", str(both), "--now", NOW, "--patient", "responding-jdm"]) == 0
    assert "Patient responding-jdm" in capsys.readouterr().out


def test_cli_missing_or_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", str(tmp_path / "none.json"), "--now", NOW]) == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["history", str(broken), "--now", NOW]) == 2
    assert "not a JSON file" in capsys.readouterr().err


def test_cli_refuses_json_deeper_than_a_request_may_be(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nested: dict[str, object] = {"url": "x"}
    for _ in range(70):
        nested = {"url": "x", "extension": [nested]}
    deep = tmp_path / "deep.json"
    deep.write_text(json.dumps([{"resourceType": "Patient", "id": "p1"}, nested]))
    assert main(["history", str(deep), "--now", NOW]) == 2
    assert "deeper than 64 levels" in capsys.readouterr().err
    monkeypatch.setenv("CDS_MAX_JSON_DEPTH", "200")  # the service's own setting applies
    assert main(["history", str(deep), "--now", NOW]) == 0


def test_timeshift_keeps_precision_and_offset() -> None:
    delta = timedelta(days=10)
    assert shift_value("2026-03-15T10:00:00+13:00", delta) == "2026-03-25T10:00:00+13:00"
    assert shift_value("2026-03-15T10:00:00.250Z", delta) == "2026-03-25T10:00:00.250Z"
    assert shift_value("2026-03-15T10:00+13:00", delta) == "2026-03-25T10:00+13:00"
    assert shift_value("2026-03-15", delta) == "2026-03-25"
    assert shift_value("2026-03", timedelta(days=40)) == "2026-04"
    assert shift_value("not 2026-03-15", delta) == "not 2026-03-15"


def test_timeshift_moves_a_whole_bundle_but_not_ids_or_codes() -> None:
    bundle = load_bundle("seed-case")
    shifted = shift_resources(bundle, timedelta(days=7))
    patient = next(
        e["resource"] for e in shifted["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert patient["birthDate"] == "2016-11-09"
    order = next(
        e["resource"]
        for e in shifted["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
        and "boundsPeriod" in json.dumps(e["resource"])
    )
    original = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == order["id"])
    bounds = order["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"]["start"]
    before = original["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"]["start"]
    assert bounds == shift_value(before, timedelta(days=7)) != before
    assert [e["resource"]["id"] for e in shifted["entry"]] == [
        e["resource"]["id"] for e in bundle["entry"]
    ]
    assert bundle["entry"][0]["resource"] is not shifted["entry"][0]["resource"]  # a copy
