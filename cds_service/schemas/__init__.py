"""The OpenAPI document and the JSON Schemas it holds: one source for docs, runtime and tests.

``validate(instance, "HookRequest")`` checks a value against ``#/components/schemas/HookRequest``
and raises :class:`~cds_service.errors.SchemaViolationError` whose message names the field::

    validate({"hook": "patient-view"}, "HookRequest")
    # SchemaViolationError("(root): 'hookInstance' is a required property")
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cds_service.errors import SchemaViolationError

_DOCUMENT_URI = "urn:jdm-cds:openapi"


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document served at /openapi.json (parsed once, do not mutate)."""
    text = resources.files(__package__).joinpath("openapi.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def schema_names() -> list[str]:
    return sorted(openapi_document()["components"]["schemas"])


@cache
def validator(schema_name: str) -> Draft202012Validator:
    """A validator for one component schema; refs resolve inside the OpenAPI document."""
    if schema_name not in openapi_document()["components"]["schemas"]:
        raise KeyError(f"no schema {schema_name!r} in openapi.json")
    resource = Resource.from_contents(openapi_document(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_DOCUMENT_URI, resource)
    schema = {"$ref": f"{_DOCUMENT_URI}#/components/schemas/{schema_name}"}
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def field_path(error: ValidationError) -> str:
    """`context.patientId`, `prefetch.patient`, `feedback[0].outcome`; `(root)` for the top."""
    parts: list[str] = []
    for part in error.absolute_path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(f".{part}" if parts else str(part))
    return "".join(parts) or "(root)"


def _most_specific(error: ValidationError) -> ValidationError:
    # oneOf/allOf failures hide the useful message in their context; the deepest names the field.
    while error.context:
        error = max(error.context, key=lambda sub: len(sub.absolute_path))
    return error


def schema_errors(instance: Any, schema_name: str) -> list[str]:
    """Every violation, each as "field: message" (for tests and reports)."""
    errors = validator(schema_name).iter_errors(instance)
    return [f"{field_path(e)}: {e.message}" for e in sorted(errors, key=lambda e: e.path)]


def validate(instance: Any, schema_name: str) -> None:
    """Raise SchemaViolationError naming the first offending field; return when valid."""
    errors = sorted(validator(schema_name).iter_errors(instance), key=_error_rank)
    if errors:
        error = _most_specific(errors[0])
        message = _short(error)
        raise SchemaViolationError(f"{field_path(error)}: {message}")


def _error_rank(error: ValidationError) -> tuple[int, str]:
    return (len(error.absolute_path), field_path(error))


def _short(error: ValidationError) -> str:
    # jsonschema repeats the offending value in its message; a value can be PHI or huge, so for
    # value-shaped failures say what was expected instead of echoing it.
    if error.validator in {"required", "dependentRequired", "additionalProperties"}:
        return str(error.message)
    expected = error.schema.get(error.validator) if isinstance(error.schema, dict) else None
    if error.validator == "type":
        return f"must be of type {expected}"
    if error.validator == "enum":
        return f"must be one of {expected}"
    if error.validator == "const":
        return f"must be {json.dumps(expected)}"
    if error.validator in {"pattern", "format"}:
        return f"does not match the expected {error.validator} {expected!r}"
    if error.validator in {"minLength", "maxLength", "minItems", "maxItems", "minimum"}:
        return f"breaks {error.validator} {expected}"
    return f"fails {error.validator}"
