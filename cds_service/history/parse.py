"""Raw FHIR R4 JSON -> validated ``fhir.resources.R4B`` models, one bad resource at a time.

The input is what the HTTP layer gathered: single resources and Bundles (searchset, transaction,
collection) mixed, in any order. This module

1. unwraps Bundles, skipping ``search.mode = outcome`` entries (OperationOutcomes about the search);
2. keeps only resource types the history uses, and drops ``entered-in-error`` records silently;
3. de-duplicates by type/id, keeping the newest (``meta.versionId``, then ``meta.lastUpdated``);
4. drops, with a :class:`DataQualityNote`, any resource about another patient (or about no
   patient it can name);
5. with a :class:`Terminology`, drops cheaply (on the raw JSON, :mod:`cds_service.history.select`)
   every resource whose code or name matches no value set, counting them, and, with a
   :class:`Retention`, the Observations the rules have no use for, BEFORE validating;
6. validates what is left with the R4B models (:mod:`cds_service.history.validate`: each repeated
   element validated once); a resource that fails becomes a note, never data.

Nothing here raises on bad input: one bad resource never fails the request. Only the caller's
`checkpoint`, called before each resource is validated, may stop the work (the call's deadline).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from cds_service.history.model import DataQualityNote, MatchKind
from cds_service.history.select import (
    CODE_ELEMENT,
    DeferredObservation,
    Match,
    Retention,
    is_object,
    match_codeable,
    match_medication_record,
    note,
    retained,
    text_or_none,
)
from cds_service.history.validate import validate_resource
from cds_service.knowledge.terminology import Terminology

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
_PATIENT_ELEMENT = dict(PATIENT_ELEMENT)  # plain dicts: read for every resource
_CODE_ELEMENT = dict(CODE_ELEMENT)
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
    checkpoint: Callable[[], None] | None = None,
) -> ParsedRecord:
    """Parse a patient's gathered FHIR JSON.

    Without `terminology` every resource of a used type is validated (and none is counted as
    unmatched); with it, only those whose code or name is in a value set, and, with `retention`,
    only the Observations it keeps. `checkpoint` is called before each validation (the costly
    step) and may raise to stop.
    """
    check = checkpoint or _no_checkpoint
    notes: list[DataQualityNote] = []
    gathered = _gather(raw, notes)
    patient = None
    for resource in gathered.patients:
        if not _entered_in_error(resource):
            check()
            patient = _parse_patient(resource, patient_id, notes) or patient
    matches, unmatched = _matches(gathered, patient_id, terminology, notes)
    deferred: list[DeferredObservation] = []
    if retention is not None:
        matches, deferred = retained(matches, retention)
    by_type: dict[str, list[ParsedResource]] = {}
    for match in matches:
        check()
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


def _no_checkpoint() -> None:
    pass


def _matches(
    gathered: _Gathered,
    patient_id: str,
    terminology: Terminology | None,
    notes: list[DataQualityNote],
) -> tuple[list[Match], dict[str, int]]:
    """This patient's resources worth validating, and counts by type of those in no value set.

    The loop every resource of a chart goes through, most of them noise: kept plain on purpose.
    """
    matches: list[Match] = []
    unmatched: dict[str, int] = {}
    usual_reference = f"Patient/{patient_id}"
    for resource in gathered.records:
        resource_type = resource["resourceType"]
        if _entered_in_error(resource):
            continue
        subject = resource.get(_PATIENT_ELEMENT[resource_type])
        usual = type(subject) is dict and subject.get("reference") == usual_reference
        if not usual and not _is_about_patient(resource, patient_id, notes):
            continue
        code_element = _CODE_ELEMENT.get(resource_type)
        if code_element is None:  # a medication record: its code may be its Medication's
            matched, match = match_medication_record(
                resource, gathered.medications, terminology, notes
            )
            if match is not None:
                matches.append(match)
        elif terminology is None:
            matched = True
            matches.append(Match(resource, frozenset(), None, None, None))
        else:
            codeable = resource.get(code_element)
            concepts, matched_by, matched_code = match_codeable(
                terminology, resource_type, codeable
            )
            matched = bool(concepts)
            if matched:
                matches.append(Match(resource, concepts, matched_by, matched_code, None))
        if not matched:
            unmatched[resource_type] = unmatched.get(resource_type, 0) + 1
    return matches, unmatched


# --- unwrapping and de-duplication -------------------------------------------------------------


@dataclass
class _Gathered:
    """The newest version of each resource of a used type, by role, in the order first seen."""

    records: list[Mapping[str, Any]]  # resources about a patient
    patients: list[Mapping[str, Any]]
    medications: dict[str, Mapping[str, Any]]  # by "Medication/<id>"


def _gather(raw: Sequence[Any], notes: list[DataQualityNote]) -> _Gathered:
    """Unwrap, keep the used types, and keep one resource per type/id (see :func:`_is_newer`).

    A chart is thousands of resources, mostly of no use: each is looked at once, plainly.
    """
    records: dict[tuple[str, str], Mapping[str, Any]] = {}  # by type and id
    patients: dict[tuple[str, str], Mapping[str, Any]] = {}
    medications: dict[tuple[str, str], Mapping[str, Any]] = {}
    records_without_id: list[Mapping[str, Any]] = []
    patients_without_id: list[Mapping[str, Any]] = []
    for resource in _flatten(raw, notes):
        if type(resource) is not dict and not is_object(resource):
            notes.append(note("unknown", None, "not a JSON object", "unparseable"))
            continue
        resource_type = resource.get("resourceType")
        if type(resource_type) is not str or resource_type not in USED_TYPES:
            if resource_type == "Bundle":
                notes.append(
                    note("Bundle", text_or_none(resource.get("id")), "nested Bundle", "other")
                )
            continue  # a type the history never reads (Encounter, OperationOutcome, ...)
        resource_id = resource.get("id")
        if resource_id is None:  # kept, but a Medication without an id can be referred to by none
            if resource_type == "Patient":
                patients_without_id.append(resource)
            elif resource_type != "Medication":
                records_without_id.append(resource)
            continue
        if type(resource_id) is not str:
            notes.append(note(resource_type, None, "id is not a string", "unparseable"))
            continue
        if resource_type == "Medication":
            newest = medications
        elif resource_type == "Patient":
            newest = patients
        else:
            newest = records
        key = (resource_type, resource_id)
        kept = newest.get(key)
        if kept is None or _is_newer(resource, kept):
            newest[key] = resource
    return _Gathered(
        records=[*records.values(), *records_without_id],
        patients=[*patients.values(), *patients_without_id],
        medications={f"Medication/{rid}": r for (_, rid), r in medications.items()},
    )


def _flatten(raw: Sequence[Any], notes: list[DataQualityNote]) -> list[Any]:
    """Single resources and the resources of Bundles' entries, in order."""
    flat: list[Any] = []
    for item in raw:
        if not is_object(item):
            notes.append(note("unknown", None, "not a JSON object", "unparseable"))
        elif item.get("resourceType") == "Bundle":
            flat.extend(_bundle_resources(item, notes))
        else:
            flat.append(item)
    return flat


def _bundle_resources(bundle: Mapping[str, Any], notes: list[DataQualityNote]) -> list[Any]:
    """The entries' resources, less ``search.mode = outcome`` ones; nested Bundles are kept."""
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
        if resource is not None:
            resources.append(resource)
    return resources


def _is_newer(resource: Mapping[str, Any], kept: Mapping[str, Any]) -> bool:
    """Higher versionId, else later lastUpdated; on a tie, the one seen last."""
    return _version_key(resource) >= _version_key(kept)


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
    model = validate_resource(resource, notes)
    return ParsedResource("Patient", patient_id, model) if model is not None else None


# --- matching and validation -------------------------------------------------------------------


def _validated(match: Match, notes: list[DataQualityNote]) -> ParsedResource | None:
    resource = match.resource
    model = validate_resource(resource, notes)
    if model is None:
        return None
    medication_model = None
    if match.medication_raw is not None and "medicationReference" in resource:
        medication_model = validate_resource(match.medication_raw, notes)
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
