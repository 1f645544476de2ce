"""The OpenAPI document and the JSON Schemas it holds: one source for docs, runtime and tests.

``validate(instance, "HookRequest")`` checks a value against ``#/components/schemas/HookRequest``
and raises :class:`~cds_service.errors.SchemaViolationError` whose message names the field::

    validate({"hook": "patient-view"}, "HookRequest")
    # SchemaViolationError("(root): 'hookInstance' is a required property")
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cds_service.errors import SchemaViolationError

_DOCUMENT_URI = "urn:jdm-cds:openapi"
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.ASCII)

_FORMATS = FormatChecker()  # the defaults (uuid, ...) plus a date-time checker that needs no extra


def _is_date_time(instance: object) -> bool:
    """RFC 3339 date-time that is also a real instant (no month 13, no 25 o'clock)."""
    if not isinstance(instance, str):
        return True
    if not _RFC3339.fullmatch(instance):
        return False
    datetime.fromisoformat(instance.replace("Z", "+00:00"))  # ValueError for impossible dates
    return True


def _anchored_pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """ECMA-262 ``$`` is the end of the string; Python's also matches before a final newline,
    so ``"p1\n"`` would pass ``^[a-z0-9]+$``. Anchored patterns are matched in full instead."""
    if not validator.is_type(instance, "string"):
        return
    if pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$"):
        matched = re.fullmatch(pattern[1:-1], instance) is not None
    else:
        matched = re.search(pattern, instance) is not None
    if not matched:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_FORMATS.checks("date-time", raises=ValueError)(_is_date_time)
_Validator = validators.extend(Draft202012Validator, {"pattern": _anchored_pattern})


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
    built: Draft202012Validator = _Validator(schema, registry=registry, format_checker=_FORMATS)
    return built


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
