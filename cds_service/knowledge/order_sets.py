"""Loading order sets: each file one PlanDefinition (type order-set), checked three ways.

1. the project's JSON Schema (``cards/schemas/order-set.schema.json``): ids, type, status, a
   citation, actions pointing at contained ActivityDefinitions, code verification marks;
2. ``fhir.resources.R4B`` PlanDefinition: a valid FHIR resource;
3. here: the file name matches the id, every action's definition resolves, action ids are unique,
   every citation key exists in ``cards/sources.json``.
A failure raises :class:`~cds_service.knowledge.loader.KnowledgeError` naming the file and
the field.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fhir.resources.R4B.plandefinition import PlanDefinition
from pydantic import ValidationError

from cds_service.knowledge.check_digits import coding_problems
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.files import field_error, read_json, read_validated

ORDER_SET_IDS: tuple[str, ...] = (
    "ivig-baseline",
    "ivig-infusion",
    "ivig-monitoring",
    "jdm-reevaluation",
    "jdm-extramuscular",
    "rituximab-baseline",
)
CODE_STATUS_URL = "https://jdm-cds.example.org/fhir/StructureDefinition/code-verification"
SCHEMA_RELATIVE_PATH = Path("schemas") / "order-set.schema.json"


@dataclass(frozen=True)
class CodeRef:
    system: str
    code: str
    display: str
    status: str  # verified | verified-secondary | candidate

    @property
    def verified(self) -> bool:
        return self.status != "candidate"


@dataclass(frozen=True)
class Citation:
    key: str  # a key of cards/sources.json
    label: str
    url: str | None


@dataclass(frozen=True)
class OrderItem:
    """One action of an order set with the ActivityDefinition it points at."""

    id: str
    title: str
    description: str
    kind: str  # ServiceRequest | MedicationRequest
    concept: Mapping[str, Any]  # CodeableConcept JSON: ``code`` or ``productCodeableConcept``
    codes: tuple[CodeRef, ...]  # empty: ordered by name (text only)
    activity: Mapping[str, Any]  # the contained ActivityDefinition JSON

    @property
    def text(self) -> str:
        return str(self.concept.get("text", self.title))


@dataclass(frozen=True)
class OrderSet:
    id: str
    url: str
    title: str
    description: str
    purpose: str
    items: tuple[OrderItem, ...]
    citations: tuple[Citation, ...]
    path: Path
    _resource: Mapping[str, Any]

    def as_fhir(self) -> dict[str, Any]:
        """The PlanDefinition JSON (a fresh copy the caller may change)."""
        return copy.deepcopy(dict(self._resource))

    def item(self, item_id: str) -> OrderItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"order set {self.id} has no item {item_id!r}")

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)


def load_order_sets(
    directory: Path, *, schema_path: Path | None = None, sources_path: Path | None = None
) -> Mapping[str, OrderSet]:
    """All order sets in ``directory`` by id; every id in :data:`ORDER_SET_IDS` must be there."""
    if not directory.is_dir():
        raise KnowledgeError(f"{directory}: order-set folder not found")
    cards = directory.parent
    schema = schema_path or cards / SCHEMA_RELATIVE_PATH
    source_keys = _source_keys(sources_path or cards / "sources.json")
    order_sets: dict[str, OrderSet] = {}
    for path in sorted(directory.glob("*.json")):
        order_set = load_order_set(path, schema, source_keys)
        order_sets[order_set.id] = order_set
    missing = [order_set_id for order_set_id in ORDER_SET_IDS if order_set_id not in order_sets]
    if missing:
        raise KnowledgeError(f"{directory}: missing order set(s): {', '.join(missing)}")
    # the order of ORDER_SET_IDS (the clinical sequence), not the file names'
    return MappingProxyType({key: order_sets[key] for key in ORDER_SET_IDS})


def load_order_set(path: Path, schema: Path, source_keys: Mapping[str, Any]) -> OrderSet:
    raw = read_validated(path, schema)
    try:
        PlanDefinition.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise field_error(path, field, f"{first['msg']} (FHIR R4B)") from exc
    if raw["id"] != path.stem:
        raise field_error(path, "id", f"{raw['id']!r} differs from the file name")
    wrong = next(coding_problems(raw), None)  # a SNOMED CT id or LOINC code that cannot exist
    if wrong is not None:
        raise field_error(path, wrong[0], wrong[1])
    return _build(raw, path, source_keys)


def _build(raw: Mapping[str, Any], path: Path, source_keys: Mapping[str, Any]) -> OrderSet:
    contained = {resource["id"]: resource for resource in raw.get("contained", [])}
    items: list[OrderItem] = []
    for index, action in enumerate(raw["action"]):
        field = f"action.{index}"
        reference = action["definitionCanonical"].removeprefix("#")
        activity = contained.get(reference)
        if activity is None or activity.get("resourceType") != "ActivityDefinition":
            raise field_error(
                path,
                f"{field}.definitionCanonical",
                f"no contained ActivityDefinition {reference!r}",
            )
        if action["id"] in {item.id for item in items}:
            raise field_error(path, f"{field}.id", f"duplicate action id {action['id']!r}")
        items.append(_item(action, activity))
    citations = []
    for index, artifact in enumerate(raw["relatedArtifact"]):
        key = artifact["label"]
        if key not in source_keys:
            raise field_error(path, f"relatedArtifact.{index}.label", f"unknown source key {key!r}")
        citations.append(Citation(key, artifact.get("display", key), artifact.get("url")))
    return OrderSet(
        id=raw["id"],
        url=raw["url"],
        title=raw["title"],
        description=raw["description"],
        purpose=raw["purpose"],
        items=tuple(items),
        citations=tuple(citations),
        path=path,
        _resource=MappingProxyType(copy.deepcopy(dict(raw))),
    )


def _item(action: Mapping[str, Any], activity: Mapping[str, Any]) -> OrderItem:
    kind = activity["kind"]
    concept = activity["code"] if kind == "ServiceRequest" else activity["productCodeableConcept"]
    return OrderItem(
        id=action["id"],
        title=action["title"],
        description=action.get("description", ""),
        kind=kind,
        concept=MappingProxyType(copy.deepcopy(dict(concept))),
        codes=tuple(_code_ref(coding) for coding in concept.get("coding", [])),
        activity=MappingProxyType(copy.deepcopy(dict(activity))),
    )


def _code_ref(coding: Mapping[str, Any]) -> CodeRef:
    status = next(
        (
            extension["valueCode"]
            for extension in coding.get("extension", [])
            if extension.get("url") == CODE_STATUS_URL
        ),
        "candidate",  # unmarked codes are treated as the weakest kind
    )
    return CodeRef(coding["system"], coding["code"], coding.get("display", ""), status)


def _source_keys(path: Path) -> Mapping[str, Any]:
    raw = read_json(path)
    sources = raw.get("sources") if isinstance(raw, dict) else None
    if not isinstance(sources, dict):
        raise field_error(path, "sources", "missing or not an object")
    return sources
