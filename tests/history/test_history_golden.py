"""The fixture patients' histories match their hand-reviewed golden files, and key facts are
checked independently of the golden files (hand-computed figures), so a wrong golden can fail."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from history_helpers import NOW, golden, load_bundle, unread_since

from cds_service.history.build import build_history
from cds_service.history.to_json import history_to_json
from cds_service.knowledge.terminology import Terminology

PATIENTS = {
    "seed-case": "seed-jdm",
    "responding": "responding-jdm",
    "ivig-three-courses": "ivig-weak",
    "weight-in-pounds": "pounds-jdm",
    "hostile": "hostile-jdm",
}


@pytest.mark.parametrize("name", sorted(PATIENTS))
def test_history_matches_golden(name: str, terminology: Terminology) -> None:
    history = build_history(
        [load_bundle(name)], PATIENTS[name], terminology, NOW, unread_since=unread_since(NOW)
    )
    expected = json.loads(golden(name).read_text(encoding="utf-8"))
    assert json.loads(json.dumps(history_to_json(history))) == expected


def _history(name: str, terminology: Terminology):  # type: ignore[no-untyped-def]
    return build_history(
        [load_bundle(name)], PATIENTS[name], terminology, NOW, unread_since=unread_since(NOW)
    )


def test_seed_case_key_facts(terminology: Terminology) -> None:
    history = _history("seed-case", terminology)
    assert (history.patient.age_years, history.patient.age_months) == (9, 4)
    assert {p.concept for p in history.problems if p.active} == {
        "jdm",
        "muscle-weakness",
        "dysphagia",
    }
    assert "ild" not in {p.concept for p in history.problems}  # refuted
    # 3 pulses of 30 mg/kg x 26.4 kg (weight 2 days before) = 792 mg
    assert [p.amount_mg for p in history.methylprednisolone_pulses] == [Decimal("792.0")] * 3
    mtx = history.methotrexate
    assert mtx is not None and (mtx.doses_given, mtx.doses_expected) == (4, 0)
    assert mtx.weeks_on_treatment == Decimal("3.4") and mtx.active
    # 15 mg/m2 x Mosteller(26.1 kg, 132.6 cm) = 15 x 0.98
    assert {e.amount_mg for e in mtx.events} == {Decimal("14.70")}
    course = history.glucocorticoid
    assert course is not None and course.trend == "tapering" and not course.raised_after_taper
    assert [p.daily_mg for p in course.points] == [Decimal("52.8"), 40, 30]
    assert [p.mg_per_kg_day for p in course.points] == [
        Decimal("2.00"),
        Decimal("1.53"),
        Decimal("1.15"),
    ]
    assert course.current is course.points[-1]
    assert history.latest_weight is not None and history.latest_weight.value == Decimal("26.0")
    assert history.bsa is not None and history.bsa.value_m2 == Decimal("0.98")
    assert history.data_quality == ()


def test_ivig_courses_grouped_and_per_kg(terminology: Terminology) -> None:
    history = _history("ivig-three-courses", terminology)
    assert len(history.ivig_courses) == 3
    for course in history.ivig_courses:
        assert course.total_g == Decimal(60) and course.g_per_kg == Decimal("2.00")
        assert all(i.matched_by.value == "name" for i in course.infusions)


def test_responding_patient(terminology: Terminology) -> None:
    history = _history("responding", terminology)
    assert not history.active_problems("muscle-weakness")
    assert history.glucocorticoid is not None and history.glucocorticoid.trend == "stopped"
    assert history.glucocorticoid.current is None
    assert history.latest("cmas").value == 50  # type: ignore[union-attr]
    mtx = history.methotrexate
    assert mtx is not None and mtx.doses_given == 0 and mtx.doses_expected == 57


def test_weights_in_pounds_and_entered_in_error(terminology: Terminology) -> None:
    history = _history("weight-in-pounds", terminology)
    weights = history.series("weight")
    assert [w.value for w in weights] == [
        Decimal("24.0"),
        Decimal("55") * Decimal("0.45359237"),
        Decimal("25.5"),
    ]
    assert weights[-1].preliminary
    assert all(w.value != 42 for w in weights)  # entered-in-error
    assert history.series("height")[0].value == Decimal("127.00")
    assert [n.category for n in history.data_quality] == ["unit"]
