"""The dosing policy: every dosing number, loaded from ``cards/dosing.json`` and validated.

The file is checked twice: by ``cards/schemas/dosing.schema.json`` (shape) and here (meaning:
known source keys, rates that make sense together, volume per kg agreeing with the product's
concentration). Any failure raises :class:`~cds_service.knowledge.loader.KnowledgeError`
naming the file and the field, so a broken edit stops the service at startup rather than
mis-dosing a child.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from cds_service.knowledge.dosing_policy_build import build_policy
from cds_service.knowledge.dosing_policy_checks import check_policy_meaning
from cds_service.knowledge.dosing_policy_types import (
    CyclophosphamidePolicy,
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
from cds_service.knowledge.files import field_error, read_json, read_validated

__all__ = [
    "DESIGN_DEFAULT",
    "CyclophosphamidePolicy",
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
    raw = read_validated(path, schema_path or path.parent / SCHEMA_RELATIVE_PATH)
    sources = _source_labels(sources_path or path.parent / SOURCES_FILE)
    policy = build_policy(raw, path, sources)
    check_policy_meaning(policy, path)
    return policy


def _source_labels(path: Path) -> Mapping[str, str]:
    """Citation key -> label from cards/sources.json, plus the design-default key."""
    raw = read_json(path)
    entries = raw.get("sources") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise field_error(path, "sources", "missing or not an object")
    labels = {key: str(entry.get("label", key)) for key, entry in entries.items()}
    labels[DESIGN_DEFAULT] = "No published number: this service's default, stated as such"
    return MappingProxyType(labels)
