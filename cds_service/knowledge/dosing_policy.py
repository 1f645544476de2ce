"""The dosing policy: every dosing number, loaded from ``cards/dosing.json`` and validated.

The file is checked twice: by ``cards/schemas/dosing.schema.json`` (shape) and here (meaning:
known source keys, rates that make sense together, volume per kg agreeing with the product's
concentration). Any failure raises :class:`~cds_service.knowledge.loader.KnowledgeError`
naming the file and the field, so a broken edit stops the service at startup rather than
mis-dosing a child.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema

from cds_service.knowledge.dosing_policy_build import build_policy
from cds_service.knowledge.dosing_policy_checks import check_policy_meaning
from cds_service.knowledge.dosing_policy_types import (
    DosingPolicy,
    IvigPolicy,
    IvigProduct,
    ObesityPolicy,
    OtherAgentDose,
    ProductCoding,
    RituximabPolicy,
    Rounding,
    SourcedValue,
    VialRounding,
    WeightPolicy,
)
from cds_service.knowledge.loader import KnowledgeError

__all__ = [
    "DESIGN_DEFAULT",
    "DosingPolicy",
    "IvigPolicy",
    "IvigProduct",
    "ObesityPolicy",
    "OtherAgentDose",
    "ProductCoding",
    "RituximabPolicy",
    "Rounding",
    "SourcedValue",
    "VialRounding",
    "WeightPolicy",
    "load_dosing_policy",
]

SCHEMA_RELATIVE_PATH = Path("schemas") / "dosing.schema.json"
SOURCES_FILE = "sources.json"
DESIGN_DEFAULT = "design default"  # the source key of a number no publication gives


def load_dosing_policy(
    path: Path, *, schema_path: Path | None = None, sources_path: Path | None = None
) -> DosingPolicy:
    """Read, validate and build the policy.

    ``schema_path`` defaults to ``schemas/dosing.schema.json`` and ``sources_path`` (the citation
    keys every number must cite) to ``sources.json``, both beside ``path``.
    """
    raw = _read_json(path)
    schema = _read_json(schema_path or path.parent / SCHEMA_RELATIVE_PATH)
    _validate_shape(raw, schema, path)
    sources = _source_labels(sources_path or path.parent / SOURCES_FILE)
    policy = build_policy(raw, path, sources)
    check_policy_meaning(policy, path)
    return policy


def _source_labels(path: Path) -> Mapping[str, str]:
    """Citation key -> label from cards/sources.json, plus the design-default key."""
    raw = _read_json(path)
    entries = raw.get("sources") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise KnowledgeError(f"{path}: field sources: missing or not an object")
    labels = {key: str(entry.get("label", key)) for key, entry in entries.items()}
    labels[DESIGN_DEFAULT] = "No published number: this service's default, stated as such"
    return MappingProxyType(labels)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KnowledgeError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KnowledgeError(f"{path}: not readable JSON ({exc})") from exc


def _validate_shape(raw: Any, schema: Mapping[str, Any], path: Path) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(raw), key=lambda error: list(error.absolute_path))
    if errors:
        first = errors[0]
        field = _field_name(first.absolute_path) or "(top level)"
        raise KnowledgeError(f"{path}: field {field}: {first.message}")


def _field_name(parts: Sequence[Any]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts).lstrip(
        "."
    )
