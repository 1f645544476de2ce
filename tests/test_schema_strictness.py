"""The request schemas mean what a JSON Schema (ECMA-262) reader thinks they mean.

Python's ``re`` lets ``$`` match before a final newline and jsonschema skips formats it has no
checker for; both would let through values the documented schema forbids.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from hook_requests import patient_view
from schema_check import assert_error

SERVICE_URL = "/cds-services/jdm-ivig"


def test_an_id_with_a_trailing_newline_is_refused(client: FlaskClient) -> None:
    body = assert_error(client.post(SERVICE_URL, json=patient_view("p1\n")), 400, "invalid")
    assert "patientId" in body["issue"][0]["diagnostics"]


def test_the_same_id_without_it_is_accepted_by_the_schema(client: FlaskClient) -> None:
    # no prefetch and no fhirServer: past the schema, the Patient cannot be had -> 412, not 400
    assert client.post(SERVICE_URL, json=patient_view("p1")).status_code == 412


def test_feedback_with_an_impossible_timestamp_is_refused_by_the_schema(
    client: FlaskClient,
) -> None:
    item = {"card": "c-1", "outcome": "accepted", "outcomeTimestamp": "2024-13-45T10:00:00Z"}
    body = assert_error(client.post(f"{SERVICE_URL}/feedback", json={"feedback": [item]}), 400)
    assert "outcomeTimestamp" in body["issue"][0]["diagnostics"]
    item["outcomeTimestamp"] = "2024-12-05T10:00:00Z"  # a real instant: past the schema ...
    body = assert_error(client.post(f"{SERVICE_URL}/feedback", json={"feedback": [item]}), 400)
    assert body["issue"][0]["diagnostics"].startswith("feedback[0].card:")  # ... to the card
