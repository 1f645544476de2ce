"""Check an HTTP answer against the service's own OpenAPI schemas (reused by every test module).

from schema_check import assert_valid
assert_valid(response, "HookResponse")
"""

from __future__ import annotations

from typing import Any

from cds_service.web.openapi import schema_errors

# status -> schema of the body, for answers whose schema follows from the status alone
ERROR_SCHEMA = "OperationOutcome"


def _body(response_or_json: Any) -> Any:
    if hasattr(response_or_json, "get_json"):  # Flask test response
        assert response_or_json.is_json, (
            f"expected a JSON answer, got {response_or_json.mimetype}: "
            f"{response_or_json.get_data(as_text=True)[:200]}"
        )
        return response_or_json.get_json()
    if hasattr(response_or_json, "json") and callable(response_or_json.json):  # requests
        return response_or_json.json()
    return response_or_json


def assert_valid(response_or_json: Any, schema_name: str) -> Any:
    """Assert the body validates against ``#/components/schemas/<schema_name>``; return it."""
    body = _body(response_or_json)
    errors = schema_errors(body, schema_name)
    assert not errors, f"{schema_name} violations: {errors}"
    return body


def assert_error(response: Any, status: int, issue_code: str | None = None) -> dict[str, Any]:
    """Assert an OperationOutcome error answer with ``status`` (and issue code); return it."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body: dict[str, Any] = assert_valid(response, ERROR_SCHEMA)
    if issue_code is not None:
        assert body["issue"][0]["code"] == issue_code, body
    return body
