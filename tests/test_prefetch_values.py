"""`prefetch_values.checked_value`: which prefetched shapes a template takes (docs/prefetch.md).

The HTTP behaviour of each shape is in tests/test_prefetch_shapes.py; these are the edges.
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_service.errors import SchemaViolationError
from cds_service.gather.prefetch_values import Unusable, checked_value

PATIENT = {"resourceType": "Patient", "id": "p1"}
OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning"}]}
ORDER = {"resourceType": "MedicationRequest", "id": "mr1"}
MEDICATION = {"resourceType": "Medication", "id": "m1"}


def bundle(*resources: Any, **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources], **fields}


def search(value: Any) -> dict[str, Any] | Unusable:
    return checked_value(value, "MedicationRequest", read=False, key="medicationRequests")


def read_patient(value: Any) -> dict[str, Any] | Unusable:
    return checked_value(value, "Patient", read=True, key="patient", patient_id="p1")


@pytest.mark.parametrize(
    "value",
    [
        bundle(ORDER, MEDICATION),  # with its _include
        bundle(MEDICATION, ORDER),  # the match need not come first
        bundle(),  # nothing found
        {"resourceType": "Bundle", "type": "searchset", "total": 0},  # no entry at all
        bundle(OUTCOME),  # nothing found, and a word about the search
        {**bundle(ORDER), "entry": [*bundle(ORDER)["entry"], 7]},  # a stray entry beside
    ],
)
def test_search_results_that_are_used_as_sent(value: dict[str, Any]) -> None:
    assert search(value) is value


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (bundle(MEDICATION), "held no MedicationRequest resources, only other types"),
        (bundle(OUTCOME, PATIENT), "held no MedicationRequest resources, only other types"),
        (
            {"resourceType": "Bundle", "entry": [None, {"resource": "x"}]},
            "held no readable entries",
        ),
        ({"resourceType": "Bundle", "entry": "x"}, "was a Bundle whose entries are not a list"),
        (ORDER, "was not a Bundle of search results"),
        ({"resourceType": 7}, "was not a FHIR resource"),
        (True, "was not a FHIR resource"),
    ],
)
def test_search_results_that_are_not_used(value: Any, why: str) -> None:
    assert search(value) == Unusable(why)


def test_a_read_takes_its_resource_out_of_a_bundle_beside_outcomes() -> None:
    assert read_patient(bundle(OUTCOME, PATIENT, OUTCOME)) is PATIENT
    assert read_patient(PATIENT) is PATIENT


def test_a_read_keeps_its_entrys_full_url_for_references_that_name_it() -> None:
    """Synthea and HealthChain: other resources name the patient by its entry's urn:uuid."""
    wrapped = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:0f0e", "resource": PATIENT}, {"resource": OUTCOME}],
    }
    assert read_patient(wrapped) == {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:0f0e", "resource": PATIENT}],
    }


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (bundle(PATIENT, PATIENT), "was a Bundle, not one Patient resource"),
        (
            {**bundle(PATIENT), "entry": [{"resource": PATIENT}, 1]},
            "was a Bundle, not one Patient resource",
        ),
        (
            {"resourceType": "Bundle", "entry": {"resource": PATIENT}},
            "was a Bundle, not one Patient resource",
        ),
        (bundle(ORDER), "was a Bundle, not one Patient resource"),
        ({"resourceType": "Patient", "id": ""}, "had no id"),
        ({"resourceType": "Patient", "id": 1}, "had no id"),
    ],
)
def test_reads_that_are_not_used(value: Any, why: str) -> None:
    assert read_patient(value) == Unusable(why)


@pytest.mark.parametrize("value", [{**PATIENT, "id": "p2"}, bundle({**PATIENT, "id": "p2"})])
def test_a_patient_of_another_id_is_the_clients_error(value: Any) -> None:
    with pytest.raises(SchemaViolationError, match=r"prefetch\.patient: id does not match"):
        read_patient(value)
