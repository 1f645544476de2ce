"""Reading a knowledge file: one helper, one field-path format for every file under ``cards/``.

``read_validated(path, schema_path)`` reads JSON and validates it with its JSON Schema; any fault
raises :class:`KnowledgeError` as ``<path>: field <a.b.0>: <message>``. The loaders call
:func:`field_error` for faults a schema cannot express, so every message looks the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from cds_service.knowledge.errors import KnowledgeError


def field_path(parts: Sequence[Any]) -> str:
    """``("topics", "ivig-start", "summary")`` -> ``topics.ivig-start.summary``."""
    return ".".join(str(part) for part in parts) or "(top level)"


def field_error(path: Path, field: str | Sequence[Any], message: str) -> KnowledgeError:
    """The error for a fault at ``field`` (dotted text or path parts) of the file at ``path``."""
    shown = field if isinstance(field, str) else field_path(field)
    return KnowledgeError(f"{path}: field {shown}: {message}")


def read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise KnowledgeError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KnowledgeError(f"{path}: not readable JSON: {exc}") from None


@cache
def _validator(schema_path: Path, _modified_ns: int) -> jsonschema.Draft202012Validator:
    # keyed on the modification time too, so a schema edited in place is read again
    return jsonschema.Draft202012Validator(read_json(schema_path))


def read_validated(path: Path, schema_path: Path) -> Any:
    """Read ``path`` and validate it against the JSON Schema at ``schema_path``."""
    document = read_json(path)
    errors = sorted(
        _validator(schema_path, _modified_ns(schema_path)).iter_errors(document),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        first = errors[0]
        raise field_error(path, list(first.absolute_path), first.message)
    return document


def _modified_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        raise KnowledgeError(f"{path}: file not found") from None
