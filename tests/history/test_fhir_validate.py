"""Validation with memoised elements gives what the library gives on the whole resource.

`fhir_validate` validates each complex element once and hands the models to the resource's own
validation. These tests hold it to the plain `Model.model_validate(resource)`: the same model
for every resource of every fixture, and, for resources broken in the elements it memoises, the
same refusal (location and kind) in the note.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from history_helpers import PATIENTS_DIR
from pydantic import ValidationError

from cds_service.config import REPO_ROOT
from cds_service.history.model import DataQualityNote
from cds_service.history.validate import (
    ELEMENTS,
    VALIDATED,
    element_fields,
    refusal,
    validate_resource,
)

SCENARIOS_DIR = REPO_ROOT / "fhir_fixtures" / "scenarios"


def _resources(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("resourceType") == "Bundle":
            for entry in node.get("entry", []):
                yield from _resources(entry.get("resource"))
        elif isinstance(node.get("resourceType"), str):
            yield node
    elif isinstance(node, list):
        for item in node:
            yield from _resources(item)


def fixture_resources() -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    files = [*PATIENTS_DIR.glob("*.bundle.json"), *SCENARIOS_DIR.glob("*/bundle.json")]
    for path in sorted(files):
        for resource in _resources(json.loads(path.read_text())):
            found.setdefault(json.dumps(resource, sort_keys=True), resource)
    return list(found.values())


def plain(resource: dict[str, Any]) -> Any:
    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    VALIDATED.clear()
    ELEMENTS.clear()
    yield
    VALIDATED.clear()
    ELEMENTS.clear()


def test_every_fixture_resource_validates_to_the_plain_model() -> None:
    resources = fixture_resources()
    assert len(resources) > 4000  # five patients and 120-odd scenarios: 4,533 today
    for resource in resources:
        try:
            expected = plain(resource).model_dump(mode="json")
        except ValidationError:
            continue  # the hostile fixtures: refusals are compared below
        notes: list[DataQualityNote] = []
        model = validate_resource(resource, notes)
        assert notes == [], resource.get("id")
        assert model.model_dump(mode="json") == expected, resource.get("id")
    assert len(ELEMENTS) > 50  # the elements were validated on their own, and reused


def _refusal(resource: dict[str, Any]) -> str:
    try:
        plain(resource)
    except ValidationError as exc:
        return refusal(exc)
    raise AssertionError("the library accepted it")


ORDER = {
    "resourceType": "MedicationRequest",
    "id": "order",
    "status": "active",
    "intent": "order",
    "subject": {"reference": "Patient/p1"},
    "medicationCodeableConcept": {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "6851"}]
    },
    "dosageInstruction": [
        {
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk"}},
            "doseAndRate": [{"doseQuantity": {"value": 15, "unit": "mg"}}],
        }
    ],
}
BREAKAGES = {
    "unknown key in an element": ("subject", {"reference": "Patient/p1", "colour": "red"}),
    "wrong type deep in an element": (
        "dosageInstruction",
        [{"doseAndRate": [{"doseQuantity": {"value": "fifteen"}}]}],
    ),
    "null in a list of elements": ("dosageInstruction", [None]),
    "null coding": ("medicationCodeableConcept", {"coding": [None]}),
    "element not an object": ("subject", "Patient/p1"),
    "two choices of one element": ("medicationReference", {"reference": "Medication/m"}),
    "empty required primitive": ("status", None),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_resource_is_refused_as_the_library_refuses_it(breakage: str) -> None:
    element, value = BREAKAGES[breakage]
    broken = copy.deepcopy(ORDER)
    broken[element] = value
    expected = _refusal(broken)
    validate_resource(copy.deepcopy(ORDER), [])  # its good elements are memoised first
    notes: list[DataQualityNote] = []
    assert validate_resource(broken, notes) is None
    assert [(n.resource_id, n.category) for n in notes] == [("order", "unparseable")]
    assert notes[0].reason == expected


def test_elements_are_shared_only_between_identical_json() -> None:
    first = validate_resource(ORDER, [])
    renewed = validate_resource({**ORDER, "id": "renewed"}, [])
    other_patient = validate_resource(
        {**ORDER, "id": "o", "subject": {"reference": "Patient/p2"}}, []
    )
    assert (
        renewed.subject is first.subject
        and renewed.dosageInstruction[0] is (first.dosageInstruction[0])
    )
    assert other_patient.subject.reference == "Patient/p2"
    assert first.subject.reference == "Patient/p1"


def test_element_fields_leave_out_fields_of_any_resource_type() -> None:
    fields = element_fields(get_fhir_model_class("MedicationRequest"))
    assert fields["subject"].__name__ == "Reference"
    assert fields["dosageInstruction"].__name__ == "Dosage"
    assert "contained" not in fields and "status" not in fields
