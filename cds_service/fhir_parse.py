"""Raw FHIR R4 JSON -> validated ``fhir.resources.R4B`` models, one bad resource at a time.

The input is what the HTTP layer gathered: single resources and Bundles (searchset, transaction,
collection) mixed, in any order. This module

1. unwraps Bundles, skipping ``search.mode = outcome`` entries (OperationOutcomes about the search);
2. keeps only resource types the history uses, and drops ``entered-in-error`` records silently;
3. de-duplicates by type/id, keeping the newest (``meta.versionId``, then ``meta.lastUpdated``);
4. drops, with a :class:`DataQualityNote`, any resource about another patient (or about no
   patient it can name);
5. with a :class:`Terminology`, drops cheaply (on the raw JSON, :mod:`cds_service.fhir_select`)
   every resource whose code or name matches no value set, counting them, and, with a
   :class:`Retention`, the Observations the rules have no use for, BEFORE validating;
6. validates what is left with the R4B models; a resource that fails becomes a note, never data.

Nothing here raises on bad input: one bad resource never fails the request.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from cds_service.fhir_select import (
    DeferredObservation,
    Match,
    Retention,
    is_object,
    match_resource,
    note,
    retained,
    text_or_none,
)
from cds_service.history.model import DataQualityNote, MatchKind
from cds_service.terminology import Terminology

# resource type -> the element naming the patient it is about
PATIENT_ELEMENT: Mapping[str, str] = MappingProxyType(
    {
        "Condition": "subject",
        "Observation": "subject",
        "MedicationRequest": "subject",
        "MedicationAdministration": "subject",
        "MedicationStatement": "subject",
        "Procedure": "subject",
        "ServiceRequest": "subject",
        "Immunization": "patient",
        "AllergyIntolerance": "patient",
    }
)
# resource type -> the CodeableConcept that says what it is
_PATIENT_ELEMENT = dict(PATIENT_ELEMENT)  # a plain dict: read for every resource
USED_TYPES = frozenset({"Patient", "Medication", *PATIENT_ELEMENT})


@dataclass(frozen=True)
class ParsedResource:
    """A validated resource with the concepts its code (or name) matched."""

    resource_type: str
    resource_id: str | None
    model: Any  # the fhir.resources.R4B model instance
    concepts: frozenset[str] = frozenset()
    matched_by: MatchKind | None = None
    matched_code: str | None = None  # "system|code" when matched by code
    medication: Any = None  # the resolved (validated) Medication of a medication resource


@dataclass(frozen=True)
class ParsedRecord:
    patient_id: str
    patient: ParsedResource | None
    resources: Mapping[str, tuple[ParsedResource, ...]]  # by type; no Patient/Medication
    notes: tuple[DataQualityNote, ...] = ()
    unmatched_counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    # older weights/heights, validated only when a dose of their time needs one (load_deferred)
    deferred: tuple[DeferredObservation, ...] = ()

    def of_type(self, resource_type: str) -> tuple[ParsedResource, ...]:
        return self.resources.get(resource_type, ())


def parse_resources(
    raw: Sequence[Mapping[str, Any]],
    patient_id: str,
    *,
    terminology: Terminology | None = None,
    retention: Retention | None = None,
) -> ParsedRecord:
    """Parse a patient's gathered FHIR JSON.

    Without `terminology` every resource of a used type is validated (and none is counted as
    unmatched); with it, only those whose code or name is in a value set, and, with `retention`,
    only the Observations it keeps.
    """
    notes: list[DataQualityNote] = []
    candidates = _deduplicate(_flatten(raw, notes))
    patient = None
    for resource in candidates:
        if resource["resourceType"] == "Patient" and not _entered_in_error(resource):
            patient = _parse_patient(resource, patient_id, notes) or patient
    matches, unmatched = _matches(candidates, patient_id, terminology, notes)
    deferred: list[DeferredObservation] = []
    if retention is not None:
        matches, deferred = retained(matches, retention)
    by_type: dict[str, list[ParsedResource]] = {}
    for match in matches:
        parsed = _validated(match, notes)
        if parsed is not None:
            by_type.setdefault(parsed.resource_type, []).append(parsed)
    return ParsedRecord(
        patient_id=patient_id,
        patient=patient,
        resources=MappingProxyType({k: tuple(v) for k, v in by_type.items()}),
        notes=tuple(notes),
        unmatched_counts=MappingProxyType(dict(sorted(unmatched.items()))),
        deferred=tuple(deferred),
    )


def _matches(
    candidates: list[Mapping[str, Any]],
    patient_id: str,
    terminology: Terminology | None,
    notes: list[DataQualityNote],
) -> tuple[list[Match], dict[str, int]]:
    """This patient's resources worth validating, and counts by type of those in no value set."""
    medications = {
        f"Medication/{r['id']}": r for r in candidates if r["resourceType"] == "Medication"
    }
    matches: list[Match] = []
    unmatched: dict[str, int] = {}
    usual_reference = f"Patient/{patient_id}"
    for resource in candidates:
        resource_type = resource["resourceType"]
        if resource_type in ("Medication", "Patient") or _entered_in_error(resource):
            continue
        subject = resource.get(_PATIENT_ELEMENT[resource_type])
        usual = type(subject) is dict and subject.get("reference") == usual_reference
        if not usual and not _is_about_patient(resource, patient_id, notes):
            continue
        matched, match = match_resource(resource, medications, terminology, notes)
        if not matched:
            unmatched[resource_type] = unmatched.get(resource_type, 0) + 1
        elif match is not None:
            matches.append(match)
    return matches, unmatched


# --- unwrapping and de-duplication -------------------------------------------------------------


def _flatten(raw: Sequence[Any], notes: list[DataQualityNote]) -> list[Mapping[str, Any]]:
    flat: list[Mapping[str, Any]] = []
    for item in raw:
        if not is_object(item):
            notes.append(note("unknown", None, "not a JSON object", "unparseable"))
        elif item.get("resourceType") == "Bundle":
            flat.extend(_bundle_resources(item, notes))
        else:
            flat.append(item)
    # the usual resource (a dict of a used type, a string id) is kept without a call per resource
    return [
        r
        for r in flat
        if (
            type(r) is dict and r.get("resourceType") in USED_TYPES and type(r.get("id", "")) is str
        )
        or _usable_shape(r, notes)
    ]


def _bundle_resources(bundle: Mapping[str, Any], notes: list[DataQualityNote]) -> list[Any]:
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        notes.append(
            note("Bundle", text_or_none(bundle.get("id")), "entry is not a list", "unparseable")
        )
        return []
    resources = []
    for entry in entries:
        if type(entry) is not dict and not is_object(entry):
            notes.append(
                note("Bundle", text_or_none(bundle.get("id")), "entry not an object", "unparseable")
            )
            continue
        search = entry.get("search")
        if search is not None and is_object(search) and search.get("mode") == "outcome":
            continue
        resource = entry.get("resource")
        if type(resource) is dict:
            if resource.get("resourceType") != "Bundle":
                resources.append(resource)
                continue
        if is_object(resource) and resource.get("resourceType") == "Bundle":
            notes.append(note("Bundle", text_or_none(resource.get("id")), "nested Bundle", "other"))
        elif resource is not None:
            resources.append(resource)
    return resources


def _usable_shape(resource: Any, notes: list[DataQualityNote]) -> bool:
    if not is_object(resource):
        notes.append(note("unknown", None, "not a JSON object", "unparseable"))
        return False
    resource_type = resource.get("resourceType")
    if resource_type not in USED_TYPES:
        return False  # a type the history never reads (Encounter, OperationOutcome, ...)
    resource_id = resource.get("id")
    if resource_id is not None and not isinstance(resource_id, str):
        notes.append(note(str(resource_type), None, "id is not a string", "unparseable"))
        return False
    return True


def _deduplicate(resources: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One resource per type/id: highest versionId, else latest lastUpdated, else the last seen."""
    newest: dict[tuple[str, str], Mapping[str, Any]] = {}
    without_id: list[Mapping[str, Any]] = []
    for resource in resources:
        resource_id = resource.get("id")
        if resource_id is None:
            without_id.append(resource)
            continue
        key = (resource["resourceType"], resource_id)
        kept = newest.get(key)
        if kept is None or _version_key(resource) >= _version_key(kept):
            newest[key] = resource
    return [*newest.values(), *without_id]


def _version_key(resource: Mapping[str, Any]) -> tuple[int, float]:
    meta = resource.get("meta")
    if not is_object(meta):
        return (-1, float("-inf"))
    version = meta.get("versionId")
    version_number = int(version) if isinstance(version, str) and version.isdigit() else -1
    updated = meta.get("lastUpdated")
    try:
        stamp = datetime.fromisoformat(updated).timestamp() if isinstance(updated, str) else None
    except ValueError:
        stamp = None
    return (version_number, stamp if stamp is not None else float("-inf"))


# --- status and subject ------------------------------------------------------------------------


def _entered_in_error(resource: Mapping[str, Any]) -> bool:
    if resource.get("status") == "entered-in-error":
        return True
    verification = resource.get("verificationStatus")
    if verification is None:
        return False  # the usual case, answered before the Mapping check
    if is_object(verification):
        codings = verification.get("coding")
        if isinstance(codings, list):
            return any(is_object(c) and c.get("code") == "entered-in-error" for c in codings)
    return False


def referenced_patient_id(reference: Any) -> str | None:
    """``Patient/p1``, ``https://ehr/fhir/Patient/p1/_history/3`` -> ``p1``; anything else None."""
    if not is_object(reference):
        return None
    text = reference.get("reference")
    if not isinstance(text, str):
        return None
    parts = text.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) >= 2 and parts[-2] == "Patient" and parts[-1]:
        return parts[-1]
    return None


def _is_about_patient(
    resource: Mapping[str, Any], patient_id: str, notes: list[DataQualityNote]
) -> bool:
    resource_type = resource["resourceType"]
    subject = resource.get(_PATIENT_ELEMENT[resource_type])
    if type(subject) is dict and subject.get("reference") == f"Patient/{patient_id}":
        return True  # the usual form, checked without parsing
    about = referenced_patient_id(subject)
    if about == patient_id:
        return True
    reason = "about another patient" if about else "names no patient it is about"
    notes.append(note(resource_type, resource.get("id"), reason, "other-patient"))
    return False


def _parse_patient(
    resource: Mapping[str, Any], patient_id: str, notes: list[DataQualityNote]
) -> ParsedResource | None:
    if resource.get("id") != patient_id:
        notes.append(note("Patient", resource.get("id"), "another patient", "other-patient"))
        return None
    model = _validate(resource, notes)
    return ParsedResource("Patient", patient_id, model) if model is not None else None


# --- matching and validation -------------------------------------------------------------------


def _validated(match: Match, notes: list[DataQualityNote]) -> ParsedResource | None:
    resource = match.resource
    model = _validate(resource, notes)
    if model is None:
        return None
    medication_model = None
    if match.medication_raw is not None and "medicationReference" in resource:
        medication_model = _validate(match.medication_raw, notes)
        if medication_model is None:
            return None
    return ParsedResource(
        resource_type=str(resource["resourceType"]),
        resource_id=resource.get("id"),
        model=model,
        concepts=match.concepts,
        matched_by=match.matched_by,
        matched_code=match.matched_code,
        medication=medication_model,
    )


def load_deferred(item: DeferredObservation, notes: list[DataQualityNote]) -> ParsedResource | None:
    """Validate a deferred Observation now (None, with a note, when it is not valid FHIR)."""
    return _validated(item.match, notes)


class _ValidatedCache:
    """Validated models by the exact JSON text of their resource, least recently used out.

    An EHR calls patient-view each time a chart is opened: the same resources come again, and
    their validation (the dominant cost) is not repeated. The key is the whole content, so a
    changed resource, or another patient's, never hits; models are only ever read.
    """

    def __init__(self, size: int):
        self._size = size
        self._models: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
            return model

    def put(self, key: str, model: Any) -> None:
        with self._lock:
            self._models[key] = model
            if len(self._models) > self._size:
                self._models.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


VALIDATED = _ValidatedCache(4096)  # ~3 charts' worth of used resources; tens of MB at most


def _validate(resource: Mapping[str, Any], notes: list[DataQualityNote]) -> Any:
    resource_type = str(resource["resourceType"])
    try:
        # not sorted: the same JSON text parses to the same key order, and a reordered (but equal)
        # resource only misses the cache; sorting cost ~20% of the key
        key = json.dumps(resource, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        key = None  # not plain JSON: validate (and most likely refuse) without caching
    model = VALIDATED.get(key) if key is not None else None
    if model is not None:
        return model
    try:
        model = _model_class(resource_type).model_validate(resource)
        if key is not None:
            VALIDATED.put(key, model)
        return model
    except ValidationError as exc:
        # the error's location and kind only: its message can quote the (PHI-bearing) value
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(resource)"
        reason = f"not valid FHIR R4: {where}: {first['type']}"
    except (TypeError, ValueError) as exc:
        reason = f"not valid FHIR R4: {type(exc).__name__}"
    notes.append(note(resource_type, resource.get("id"), reason, "unparseable"))
    return None


@cache
def _model_class(resource_type: str) -> Any:
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)
