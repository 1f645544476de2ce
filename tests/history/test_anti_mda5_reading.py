"""Anti-MDA5 antibody results read as positive or negative (docs/clinical/codes.md, anti-mda5):
by LOINC code or, conservatively, by the antibody's name; positive by a value, an interpretation
(H, HH, A, AA) or a quantity above the lab's upper limit; a negative result is negative."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from history_helpers import PATIENT

from cds_service.history.model import TherapyHistory

Build = Callable[..., TherapyHistory]
LOINC_MDA5 = {"coding": [{"system": "http://loinc.org", "code": "107563-9"}]}
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def observation(code: dict[str, Any], **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "mda5",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": code,
        "effectiveDateTime": "2026-03-01",
        **value,
    }


def read(build: Build, resource: dict[str, Any]) -> list[str]:
    return [r.value for r in build(resource).coded_results if r.concept == "anti-mda5"]


SNOMED = "http://snomed.info/sct"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "10828004"}]}},
            "positive",
        ),
        ({"valueCodeableConcept": {"text": "Detected"}}, "positive"),
        ({"valueString": "positive"}, "positive"),
        ({"interpretation": [{"coding": [{"system": INTERPRETATION, "code": "POS"}]}]}, "positive"),
        ({"interpretation": [{"coding": [{"system": INTERPRETATION, "code": "H"}]}]}, "positive"),
        ({"interpretation": [{"coding": [{"system": INTERPRETATION, "code": "A"}]}]}, "positive"),
        ({"valueString": "Negative"}, "negative"),
        ({"interpretation": [{"coding": [{"system": INTERPRETATION, "code": "N"}]}]}, "negative"),
        (
            {
                "valueQuantity": {"value": 40, "unit": "U/mL"},
                "referenceRange": [{"high": {"value": 20, "unit": "U/mL"}}],
            },
            "positive",
        ),
        (
            {
                "valueQuantity": {"value": 8, "unit": "U/mL"},
                "referenceRange": [{"high": {"value": 20, "unit": "U/mL"}}],
            },
            "negative",
        ),
    ],
)
def test_result_read_by_code(build: Build, value: dict[str, Any], expected: str) -> None:
    assert read(build, observation(LOINC_MDA5, **value)) == [expected]


@pytest.mark.parametrize(
    "name",
    [
        "Anti-MDA5 antibody",
        "MDA5 Ab (myositis line blot)",
        "Melanoma differentiation-associated gene 5 antibody",
    ],
)
def test_result_read_by_name(build: Build, name: str) -> None:
    assert read(build, observation({"text": name}, valueString="Positive")) == ["positive"]


def test_other_myositis_antibodies_are_not_mda5(build: Build) -> None:
    for name in ("Anti-TIF1-gamma antibody", "NXP-2 antibody", "Anti-Jo-1 antibody"):
        assert read(build, observation({"text": name}, valueString="Positive")) == []
