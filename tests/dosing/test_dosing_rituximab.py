"""Rituximab by BSA: the worked examples of docs/clinical/dosing.md and the cap."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from dosing_helpers import measurement

from cds_service.card_builder.dose_text import rituximab_arithmetic_lines
from cds_service.dosing import DosingPolicy, mosteller_bsa_m2, rituximab_dose
from cds_service.history.model import BodySurfaceArea
from cds_service.knowledge.loader import load_knowledge

REPO_CARDS = Path(__file__).resolve().parents[2] / "cards"


def test_130_cm_30_kg(dosing_policy: DosingPolicy) -> None:
    dose = rituximab_dose(
        dosing_policy,
        weight=measurement("30"),
        height=measurement("130", concept="height", resource_id="h-1"),
    )
    assert dose is not None
    evidence = dose.evidence()
    assert Decimal(evidence["bsaM2"]) == Decimal("1.04")
    assert Decimal(evidence["uncappedMg"]) == 780
    assert Decimal(evidence["perInfusionMg"]) == 780
    assert evidence["capped"] is False
    assert evidence["infusions"] == 2
    assert evidence["intervalDays"] == 7
    assert [ref.reference for ref in dose.resources] == ["Observation/w-1", "Observation/h-1"]
    assert "750 mg/m² × 1.04 m² = 780 mg per infusion (cap 1000 mg not reached)." in (
        rituximab_arithmetic_lines(dose, load_knowledge(REPO_CARDS).texts)
    )


def test_165_cm_60_kg_is_capped_at_1000_mg(dosing_policy: DosingPolicy) -> None:
    bsa = BodySurfaceArea(
        value_m2=Decimal("1.66"),
        weight=measurement("60"),
        height=measurement("165", concept="height"),
    )
    dose = rituximab_dose(dosing_policy, bsa=bsa)
    assert dose is not None
    assert Decimal(dose.evidence()["bsaM2"]) == Decimal("1.66")
    assert dose.capped is True
    assert dose.per_infusion_mg_rounded == 1000
    # docs/clinical/dosing.md's 1244 mg is 750 x the unrounded 1.6583 m2; we dose on the reported
    # 1.66 m2
    assert Decimal(dose.evidence()["uncappedMg"]) == 1245


def test_never_the_adult_regimen(dosing_policy: DosingPolicy) -> None:
    dose = rituximab_dose(
        dosing_policy, weight=measurement("90"), height=measurement("190", concept="height")
    )
    assert dose is not None
    assert dose.interval_days == 7
    assert dose.per_infusion_mg <= 1000


def test_no_height_no_dose(dosing_policy: DosingPolicy) -> None:
    assert rituximab_dose(dosing_policy, weight=measurement("30")) is None


def test_mosteller_formula() -> None:
    assert mosteller_bsa_m2(Decimal(36), Decimal(100)) == 1
    with pytest.raises(ValueError):
        mosteller_bsa_m2(Decimal(0), Decimal(100))
