"""cards/dosing.json: loads with every number and source; a broken file names file and field."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dosing_helpers import REPO

from cds_service.dosing import DosingPolicy, load_dosing_policy
from cds_service.knowledge.errors import KnowledgeError

Edit = Callable[[dict[str, Any]], None]


def test_shipped_policy_matches_dosing_md(dosing_policy: DosingPolicy) -> None:
    ivig = dosing_policy.ivig
    assert ivig.g_per_kg_per_course.value == 2
    assert ivig.cap_g_per_course.value == 70
    assert ivig.cap_g_per_course.sources == ("CARRA-rash", "Share4Rare")
    assert ivig.default_days.as_int == 2
    assert ivig.risk_days.as_int == 5
    assert ivig.risk_g_per_kg_per_day.value == Decimal("0.4")
    assert ivig.ml_per_kg_per_course.value == 20
    assert ivig.start_rate_ml_per_kg_min.value == Decimal("0.01")
    assert ivig.start_rate_minutes.as_int == 30
    assert ivig.max_rate_ml_per_kg_min.value == Decimal("0.04")
    assert ivig.max_rate_at_risk_ml_per_kg_min.value == Decimal("0.03")
    assert ivig.vial_rounding.max_deviation_fraction.value == Decimal("0.10")
    weight = dosing_policy.weight
    assert (weight.recency_days.as_int, weight.height_window_days.as_int) == (30, 90)
    assert (weight.plausible_min_kg.value, weight.plausible_max_kg.value) == (2, 150)
    assert weight.max_change_fraction.value == Decimal("0.20")
    assert dosing_policy.obesity.bmi_centile_threshold.value == 95
    assert dosing_policy.obesity.dose_weight == "actual"
    assert dosing_policy.obesity.growth_reference == "uk-who"
    rituximab = dosing_policy.rituximab
    assert rituximab.mg_per_m2_per_infusion.value == 750
    assert rituximab.cap_mg_per_infusion.value == 1000
    assert (rituximab.infusions.as_int, rituximab.interval_days.as_int) == (2, 7)
    assert dosing_policy.other_agents["cyclosporine"].dose == "3-5 mg/kg/day in 2 doses"
    assert (rituximab.adult_dose_mg.value, rituximab.adult_interval_days.as_int) == (1000, 14)


def test_every_cited_key_has_a_label(dosing_policy: DosingPolicy) -> None:
    assert dosing_policy.sources["Octagam-PI"].startswith("Octagam")
    assert "design default" in dosing_policy.sources


@pytest.fixture
def broken_cards(tmp_path: Path) -> Callable[[Edit], Path]:
    """Copy the three files the loader reads, apply ``edit`` to dosing.json, return its path."""

    def make(edit: Edit) -> Path:
        (tmp_path / "schemas").mkdir(exist_ok=True)
        shutil.copy(REPO / "cards" / "schemas" / "dosing.schema.json", tmp_path / "schemas")
        shutil.copy(REPO / "cards" / "sources.json", tmp_path)
        raw = json.loads((REPO / "cards" / "dosing.json").read_text(encoding="utf-8"))
        edit(raw)
        target = tmp_path / "dosing.json"
        target.write_text(json.dumps(raw), encoding="utf-8")
        return target

    return make


def _set(path: str, value: Any) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node[part]
        node[last] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "field", "why"),
    [
        (_set("ivig.capGPerCourse.value", 70), "ivig.capGPerCourse.value", "not of type"),
        (_set("ivig.capGPerCourse.value", "seventy"), "ivig.capGPerCourse.value", "match"),
        (_set("ivig.capGPerCourse.sources", ["NoSuchPaper"]), "ivig.capGPerCourse", "NoSuch"),
        (_set("ivig.mlPerKgPerCourse.value", "25"), "ivig.mlPerKgPerCourse", "disagrees"),
        (_set("ivig.riskGPerKgPerDay.value", "0.5"), "ivig.riskGPerKgPerDay", "not the course"),
        (_set("ivig.maxRateAtRiskMlPerKgMin.value", "0.05"), "ivig.maxRateAtRisk", "rates"),
        (_set("weight.plausibleMinKg.value", "200"), "weight.plausibleMinKg", "below"),
        (_set("weight.recencyDays.value", "30.5"), "weight.recencyDays.value", "match"),
        (_set("obesity.doseWeight", "ideal"), "obesity.doseWeight", "not one of"),
        (_set("rituximab.surprise", True), "rituximab", "Additional properties"),
        (_set("rounding.gramsQuantum", "0"), "rounding.gramsQuantum", "greater than 0"),
    ],
)
def test_broken_policy_names_file_and_field(
    broken_cards: Callable[[Edit], Path], edit: Edit, field: str, why: str
) -> None:
    path = broken_cards(edit)
    with pytest.raises(KnowledgeError) as raised:
        load_dosing_policy(path)
    message = str(raised.value)
    assert str(path) in message
    assert field in message
    assert why in message


def test_missing_and_unparsable_files(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="file not found"):
        load_dosing_policy(tmp_path / "dosing.json")
    (tmp_path / "dosing.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="not readable JSON"):
        load_dosing_policy(tmp_path / "dosing.json")
