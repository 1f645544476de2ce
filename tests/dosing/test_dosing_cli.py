"""`jdm-cds dose`: the card's arithmetic from the command line, for pharmacy review."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from dosing_helpers import REPO

from cds_service.commands.cli import main


def test_ivig_prints_the_card_arithmetic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dose", "ivig", "--weight", "26", "--date", "2026-03-10"]) == 0
    out = capsys.readouterr().out
    assert "2 g/kg × 26 kg = 52 g per course (cap 70 g not reached)." in out
    assert "520 mL per course" in out


def test_ivig_json_with_obesity_and_five_day_split(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["dose", "ivig", "--weight", "50", "--height", "140", "--sex", "female"]
    argv += ["--birth-date", "2016-03-01", "--date", "2026-03-10", "--five-day", "--json"]
    assert main(argv) == 0
    evidence = json.loads(capsys.readouterr().out)
    assert evidence["capped"] is True
    assert (evidence["days"], Decimal(evidence["perDayG"])) == (5, 14)
    assert Decimal(30) < Decimal(evidence["ddwKg"]) < Decimal(50)


def test_rituximab(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dose", "rituximab", "--weight", "30", "--height", "130", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["perInfusionMg"] == "780"


def test_refusals_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dose", "rituximab", "--weight", "30"]) == 2
    assert "needs --weight and --height" in capsys.readouterr().err
    assert main(["dose", "ivig", "--weight", "151"]) == 2
    assert "not dosed" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["dose", "ivig", "--weight", "-4"])


def test_a_policy_edit_is_checked_before_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REPO / "cards", tmp_path, dirs_exist_ok=True)
    raw = json.loads((REPO / "cards" / "dosing.json").read_text(encoding="utf-8"))
    raw["ivig"]["capGPerCourse"]["value"] = "60"
    (tmp_path / "dosing.json").write_text(json.dumps(raw), encoding="utf-8")
    assert main(["dose", "ivig", "--weight", "40", "--dir", str(tmp_path)]) == 0
    assert "capped at 60 g" in capsys.readouterr().out
    raw["ivig"]["capGPerCourse"]["sources"] = ["Nobody2099"]
    (tmp_path / "dosing.json").write_text(json.dumps(raw), encoding="utf-8")
    assert main(["dose", "ivig", "--weight", "40", "--dir", str(tmp_path)]) == 1
    assert "ivig.capGPerCourse" in capsys.readouterr().err
