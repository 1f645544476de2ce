"""Build CDS Hooks ``patient-view`` request bodies for tests."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any


def patient_view(
    patient_id: str,
    *,
    prefetch: Mapping[str, Any] | None = None,
    fhir_server: str | None = None,
    access_token: str | None = None,
    user_id: str = "Practitioner/found-dr-1",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": user_id, "patientId": patient_id},
    }
    if fhir_server is not None:
        body["fhirServer"] = fhir_server
    if access_token is not None:
        body["fhirAuthorization"] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "jdm-cds",
        }
    if prefetch is not None:
        body["prefetch"] = dict(prefetch)
    return body
