"""The warm-up record goes through the real pipeline and exercises the dosing path."""

from __future__ import annotations

import json

from flask import Flask

from bench.generate import warmup_record_text
from cds_service.serving.warmup import RECORD_PATH, WARMUP_PATIENT, warm_up


def test_the_warm_up_record_gets_the_ivig_card(app: Flask) -> None:
    # the synthetic child is the seed case: the warm-up walks rules, dosing and cards
    assert "ivig-start" in warm_up(app)


def test_the_warm_up_record_is_synthetic_and_about_one_patient() -> None:
    record = json.loads(RECORD_PATH.read_text())
    resources = [entry["resource"] for entry in record["entry"]]
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert [p["id"] for p in patients] == [WARMUP_PATIENT]
    assert patients[0]["name"] == [{"family": "Synthetic", "given": ["Bench"]}]
    subjects = {
        (r.get("subject") or r.get("patient") or {}).get("reference")
        for r in resources
        if r["resourceType"] != "Patient"
    }
    assert subjects == {f"Patient/{WARMUP_PATIENT}"}


def test_the_warm_up_record_is_what_bench_generate_writes() -> None:
    # regenerate with `.venv/bin/python -m bench.generate --warm-up`
    assert RECORD_PATH.read_text(encoding="utf-8") == warmup_record_text()
