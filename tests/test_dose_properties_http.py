"""Dose properties end to end: through the HTTP service, not only the dosing functions.

The unit-level Hypothesis tests (tests/dosing/test_dosing_properties.py: cap never exceeded,
total never falls as weight rises; tests/history/test_history_properties.py: weight units round
trip, conversion monotonic) check the functions. What they cannot see is the wiring between them:
a weight recorded in pounds or grams going through FHIR parsing, unit conversion, dosing-weight
selection and card rendering. Here the scenario patient's latest weight is replaced by a generated
mass, recorded as kg, g or [lb_av], and the service's answer must be:

- the same dose whichever unit the same mass was recorded in;
- never above the cap, and the uncapped course exactly g/kg times the dosing weight;
- the weight used equal to the recorded mass, exactly;
- the daily amounts, after rounding, never adding up to more than the cap.
"""

from __future__ import annotations

import copy
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.app import create_app
from fhir_fixtures.clocks import SCENARIO_NOW as NOW

SCENARIO = Path(__file__).resolve().parent.parent / "fhir_fixtures/scenarios"
REQUEST = json.loads((SCENARIO / "in-ivig-start-inadequate-response/request.json").read_text())
POUND_KG = Decimal("0.45359237")  # exact by definition

# masses chosen in pounds to one decimal, so kg and g are exact decimals of the same mass
pounds = st.decimals(min_value=Decimal("33.0"), max_value=Decimal("130.0"), places=1)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    database = tmp_path_factory.mktemp("dose-props") / "db.sqlite3"
    return create_app({"database_url": f"sqlite:///{database}"}, clock=lambda: NOW)


def ivig_dose(app: Flask, value: Decimal, unit: str) -> dict[str, Any] | None:
    body = copy.deepcopy(REQUEST)
    for entry in body["prefetch"]["observations"]["entry"]:
        if entry["resource"]["id"].endswith("w-now"):
            entry["resource"]["valueQuantity"] = {
                "value": float(value) if value != value.to_integral() else int(value),
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            }
    response = app.test_client().post("/cds-services/jdm-ivig", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    for card in response.get_json()["cards"]:
        dose = card.get("extension", {}).get("org.jdm-cds.evidence", {}).get("dose")
        if dose and dose["agent"] == "ivig":
            return dict(dose)
    return None


@given(mass_lb=pounds)
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_same_mass_in_any_unit_gives_the_same_capped_dose(app: Flask, mass_lb: Decimal) -> None:
    mass_kg = mass_lb * POUND_KG
    doses = {
        "kg": ivig_dose(app, mass_kg, "kg"),
        "g": ivig_dose(app, mass_kg * 1000, "g"),
        "[lb_av]": ivig_dose(app, mass_lb, "[lb_av]"),
    }
    assert doses["kg"] is not None, "a plausible, recent weight must give a dose"
    fields = ("weightKg", "dosingWeightBasis", "uncappedTotalG", "courseTotalG", "perDayG", "days")
    reference = {name: doses["kg"].get(name) for name in fields}
    for unit, dose in doses.items():
        assert dose is not None, unit
        assert {name: dose.get(name) for name in fields} == reference, unit
    dose = doses["kg"]
    course, cap = Decimal(dose["courseTotalG"]), Decimal(dose["capG"])
    uncapped, per_day = Decimal(dose["uncappedTotalG"]), Decimal(dose["perDayG"])
    # the recorded mass arrives whatever unit it came in, read to 0.1 kg (docs/clinical/dosing.md)
    read_kg = mass_kg.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert Decimal(dose["weightKg"]) == read_kg
    if dose["dosingWeightBasis"] == "actual":
        assert abs(uncapped - Decimal(dose["gPerKg"]) * read_kg) <= Decimal("0.05")
    assert course == min(uncapped, cap)
    # what is given day by day, after rounding, never adds up past the cap
    assert per_day * dose["days"] <= cap
    assert abs(per_day * dose["days"] - course) <= Decimal("0.5") * dose["days"]
