"""fhir_fixtures/builders: one set of codes for the fixtures, the bench and the tests, and they are
the knowledge base's. A fixture coded in a system the service does not know would only ever be
matched by name (as bench/generate.py's CMAS once was), and its test would prove less."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bench.generate import generate_record
from cds_service.config import REPO_ROOT
from cds_service.history.build import build_history
from cds_service.history.model import MatchKind
from cds_service.knowledge.terminology import load_terminology
from cds_service.serving.warmup import RECORD_PATH, WARMUP_NOW, WARMUP_PATIENT
from fhir_fixtures import builders as fb
from fhir_fixtures.builders import HISTORY_ROUTES, VALUE_SET_CODES, Code

VALUESETS = REPO_ROOT / "cards" / "valuesets"


def expansion(value_set: str) -> list[dict[str, Any]]:
    document = json.loads((VALUESETS / f"{value_set}.json").read_text(encoding="utf-8"))
    contains: list[dict[str, Any]] = document["expansion"]["contains"]
    return contains


@pytest.mark.parametrize(
    ("value_set", "code"),
    [(value_set, code) for value_set, codes in VALUE_SET_CODES.items() for code in codes],
    ids=lambda item: item if isinstance(item, str) else item.code,
)
def test_each_code_is_coded_as_its_value_set_codes_it(value_set: str, code: Code) -> None:
    held = {(c["system"], c["code"]): c.get("display") for c in expansion(value_set)}
    assert (code.system, code.code) in held, f"{code} is not in {value_set}.json"
    assert code.display == held[(code.system, code.code)]


def test_the_muscle_scores_are_in_the_value_sets_own_system() -> None:
    for value_set, code in (("cmas", fb.CMAS), ("mmt8", fb.MMT8)):
        assert {c["system"] for c in expansion(value_set)} == {fb.MUSCLE_SCORES} == {code.system}


def test_the_routes_are_the_ones_cards_history_lists() -> None:
    routes = json.loads((REPO_ROOT / "cards" / "history.json").read_text())["routes"]
    for name, code in HISTORY_ROUTES.items():
        assert f"{code.system}|{code.code}" in routes[name]["codes"], name


def test_a_builder_writes_only_what_it_is_given() -> None:
    weight = fb.observation(
        "w",
        "p",
        fb.concept(fb.WEIGHT),
        effective="2026-03-10",
        value_quantity=fb.quantity(26, "kg"),
    )
    assert weight == {
        "resourceType": "Observation",
        "id": "w",
        "status": "final",
        "code": {"coding": [{"system": fb.LOINC, "code": "29463-7", "display": "Body weight"}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2026-03-10",
        "valueQuantity": {"value": 26, "unit": "kg", "system": fb.UCUM, "code": "kg"},
    }
    assert fb.concept(fb.CK.shown_as(None)) == {"coding": [{"system": fb.LOINC, "code": "2157-6"}]}
    bundle = fb.transaction([weight])
    assert bundle["entry"] == [
        {"resource": weight, "request": {"method": "PUT", "url": "Observation/w"}}
    ]


def _scores(resources: list[dict[str, Any]], patient_id: str, now: datetime) -> list[Any]:
    terminology = load_terminology(VALUESETS)
    history = build_history(resources, patient_id, terminology, now)
    return [*history.series("cmas"), *history.series("mmt8")]


def test_the_bench_records_scores_are_matched_by_code_not_by_name() -> None:
    now = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    scores = _scores(generate_record(300, now, patient_id="bench"), "bench", now)
    assert {s.concept for s in scores} == {"cmas", "mmt8"}
    assert {s.matched_by for s in scores} == {MatchKind.CODE}


def test_the_warm_up_records_scores_are_matched_by_code_not_by_name() -> None:
    record = json.loads(RECORD_PATH.read_text(encoding="utf-8"))
    scores = _scores([record], WARMUP_PATIENT, WARMUP_NOW)
    assert {s.concept for s in scores} == {"cmas", "mmt8"}
    assert {s.matched_by for s in scores} == {MatchKind.CODE}
