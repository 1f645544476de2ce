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

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from cds_service.history.findings import coded_finding, is_finding, text_findings
from cds_service.history.model import DataQualityNote, MatchKind
from cds_service.history.references import entry_aliases, foreign_reason, with_local_references
from cds_service.history.screen import Screen
from cds_service.history.select import (
    CODE_ELEMENT,
    DeferredObservation,
    Match,
    Retention,
    is_object,
    match_codeable,
    match_components,
    match_medication_record,
    note,
    raw_latest_time,
    resolve_medication,
    retained,
    text_or_none,
)
from cds_service.history.validate import validate_resource
from cds_service.knowledge.concepts import concept_key
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
_MEDICATION_TYPES = frozenset(
    {"MedicationRequest", "MedicationAdministration", "MedicationStatement"}
)


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
    quote: str | None = None  # the free text a TEXT match was found in


@dataclass(frozen=True)
class ParsedRecord:
    patient_id: str
    patient: ParsedResource | None
    resources: Mapping[str, tuple[ParsedResource, ...]]  # by type; no Patient/Medication
    notes: tuple[DataQualityNote, ...] = ()
    unmatched_counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    # older weights/heights, validated only when a dose of their time needs one (load_deferred)
    deferred: tuple[DeferredObservation, ...] = ()
    # findings read from an Observation or from free text (not in `resources`)
    findings: tuple[ParsedResource, ...] = ()

    def of_type(self, resource_type: str) -> tuple[ParsedResource, ...]:
        return self.resources.get(resource_type, ())


def parse_resources(
    raw: Sequence[Mapping[str, Any]],
    patient_id: str,
    *,
    terminology: Terminology | None = None,
    retention: Retention | None = None,
    server: str | None = None,
    screen: Screen | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> ParsedRecord:
    """Parse a patient's gathered FHIR JSON; `server` is the base of the FHIR server read from.

    Without `terminology` every resource of a used type is validated (and none is counted as
    unmatched); with it, only those whose code or name is in a value set, and, with `retention`,
    only the Observations it keeps. With a `screen`, findings are also read from coded values and
    free text, and unmatched records that could change advice are named. `checkpoint` is called
    before each validation (the costly step) and may raise to stop.
    """
    check = checkpoint or _no_checkpoint
    notes: list[DataQualityNote] = []
    gathered = _gather(raw, server, notes)
    patient = None
    for resource in gathered.patients:
        if not _entered_in_error(resource):
            check()
            patient = _parse_patient(resource, patient_id, notes) or patient
    if ("Patient", patient_id) in gathered.conflicts:
        notes.append(
            note("Patient", patient_id, gathered.conflicts[("Patient", patient_id)], "conflict")
        )
    matches, unmatched = _matches(gathered, patient_id, terminology, screen, notes)
    deferred: list[DeferredObservation] = []
    if retention is not None:
        matches, deferred = retained(matches, retention)
    by_type: dict[str, list[ParsedResource]] = {}
    findings: list[ParsedResource] = []
    for match in matches:
        check()
        parsed = _validated(match, notes)
        if parsed is None:
            continue
        if is_finding(parsed.resource_type, parsed.matched_by, parsed.concepts):
            findings.append(parsed)
        else:
            by_type.setdefault(parsed.resource_type, []).append(parsed)
    return ParsedRecord(
        patient_id=patient_id,
        patient=patient,
        resources=MappingProxyType({k: tuple(v) for k, v in by_type.items()}),
        notes=tuple(notes),
        unmatched_counts=MappingProxyType(dict(sorted(unmatched.items()))),
        deferred=tuple(deferred),
        findings=tuple(findings),
    )


def _no_checkpoint() -> None:
    pass


def _matches(
    gathered: _Gathered,
    patient_id: str,
    terminology: Terminology | None,
    screen: Screen | None,
    notes: list[DataQualityNote],
) -> tuple[list[Match], dict[str, int]]:
    """This patient's resources worth validating, and counts by type of those in no value set.

    The loop every resource of a chart goes through, most of them noise: kept plain on purpose.
    With a `screen`, what no value set matches gets a second look (:func:`_second_look`).
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
            if not concepts and resource_type == "Observation" and "component" in resource:
                concepts, matched_by, matched_code = match_components(terminology, resource)
            matched = bool(concepts)
            if matched:
                matches.append(Match(resource, concepts, matched_by, matched_code, None))
        if screen is not None and terminology is not None:
            matched = _second_look(resource, matched, gathered, terminology, screen, matches, notes)
        if not matched:
            unmatched[resource_type] = unmatched.get(resource_type, 0) + 1
    if gathered.conflicts:
        notes.extend(_conflict_notes(matches, gathered.conflicts))
    return matches, unmatched


def _second_look(
    resource: Mapping[str, Any],
    matched: bool,
    gathered: _Gathered,
    terminology: Terminology,
    screen: Screen,
    matches: list[Match],
    notes: list[DataQualityNote],
) -> bool:
    """What could change advice although no value set named it; True when the record was used
    or named. Findings: a finding coded as an Observation's value, and red-flag phrases in free
    text (each a TEXT match, quoted). Unmatched medications and allergies: named when they
    could matter (:class:`Screen`).
    """
    resource_type = resource["resourceType"]
    if resource_type in ("Condition", "Observation"):
        if not matched and resource_type == "Observation":
            finding = coded_finding(terminology, resource)
            if finding is not None:
                matches.append(finding)
                matched = True
        found_in_text = text_findings(resource, matched, screen, notes)
        if found_in_text:
            matches.extend(found_in_text)
            matched = True
        return matched
    if matched:
        return True
    if resource_type == "AllergyIntolerance":
        found = screen.allergy(resource)
    elif resource_type in _MEDICATION_TYPES:
        found = screen.medication(resource, resolve_medication(resource, gathered.medications))
    else:
        found = None
    if found is not None:
        notes.append(found)
    return found is not None


def _conflict_notes(
    matches: list[Match], conflicts: Mapping[tuple[str, str], str]
) -> list[DataQualityNote]:
    """A note for each record sent in two disagreeing versions, when it is of a kind used."""
    found = []
    for match in matches:
        resource_type, resource_id = match.resource["resourceType"], match.resource.get("id")
        reason = conflicts.get((resource_type, resource_id)) if resource_id else None
        if reason is not None:
            concept = min(match.concepts) if match.concepts else None
            found.append(note(resource_type, resource_id, reason, "conflict", concept))
    return found


# --- unwrapping and de-duplication -------------------------------------------------------------


@dataclass
class _Gathered:
    """The newest version of each resource of a used type, by role, in the order first seen."""

    records: list[Mapping[str, Any]]  # resources about a patient
    patients: list[Mapping[str, Any]]
    medications: dict[str, Mapping[str, Any]]  # by "Medication/<id>"
    # (type, id) -> why, for records sent twice with different content (named if they matter)
    conflicts: dict[tuple[str, str], str] = field(default_factory=dict)


def _gather(raw: Sequence[Any], server: str | None, notes: list[DataQualityNote]) -> _Gathered:
    """Unwrap, keep the used types, and keep one resource per type/id (see :func:`_is_newer`).

    A chart is thousands of resources, mostly of no use: each is looked at once, plainly.
    """
    records: dict[tuple[str, str], Mapping[str, Any]] = {}  # by type and id
    patients: dict[tuple[str, str], Mapping[str, Any]] = {}
    medications: dict[tuple[str, str], Mapping[str, Any]] = {}
    records_without_id: list[Mapping[str, Any]] = []
    conflicts: dict[tuple[str, str], str] = {}
    patients_without_id: list[Mapping[str, Any]] = []
    for resource in _flatten(raw, server, notes):
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
        if kept is None:
            newest[key] = resource
            continue
        newer, older = (resource, kept) if _is_newer(resource, kept) else (kept, resource)
        newest[key] = newer
        if _content(newer) != _content(older):
            conflicts[key] = _conflict_reason(newer, older)
    return _Gathered(
        records=[*records.values(), *records_without_id],
        patients=[*patients.values(), *patients_without_id],
        medications={f"Medication/{rid}": r for (_, rid), r in medications.items()},
        conflicts=conflicts,
    )


def _content(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What a resource says, less the server's bookkeeping (two copies differ only there)."""
    return {key: value for key, value in resource.items() if key not in ("meta", "text")}


def _conflict_reason(newer: Mapping[str, Any], older: Mapping[str, Any]) -> str:
    newer_version, older_version = _version_text(newer), _version_text(older)
    if newer_version and older_version and newer_version != older_version:
        return (
            f"two versions of this record disagree (versions {older_version} and "
            f"{newer_version}); only version {newer_version} was used"
        )
    return "two copies of this record disagree; only the one updated last was used"


def _version_text(resource: Mapping[str, Any]) -> str | None:
    meta = resource.get("meta")
    version = meta.get("versionId") if is_object(meta) else None
    return version if isinstance(version, str) and version else None


def _flatten(raw: Sequence[Any], server: str | None, notes: list[DataQualityNote]) -> list[Any]:
    """Single resources and the resources of Bundles' entries, in order, references made local.

    See :mod:`cds_service.history.references`: ``urn:uuid`` references resolved through the
    entries' ``fullUrl``; absolute ones kept only when they point at `server` or the entry's own.
    """
    entries: list[tuple[Any, str | None]] = []
    for item in raw:
        if not is_object(item):
            notes.append(note("unknown", None, "not a JSON object", "unparseable"))
        elif item.get("resourceType") == "Bundle":
            entries.extend(_bundle_entries(item, notes))
        else:
            entries.append((item, None))

    @cache  # only records that reference by urn:uuid or by URL need them: most need none
    def aliases() -> dict[str, str]:
        return entry_aliases(
            (resource, full_url) for resource, full_url in entries if is_object(resource)
        )

    return [
        with_local_references(resource, full_url, aliases, server)
        if type(resource) is dict
        else resource
        for resource, full_url in entries
    ]


def _bundle_entries(
    bundle: Mapping[str, Any], notes: list[DataQualityNote]
) -> list[tuple[Any, str | None]]:
    """The entries' resources with their ``fullUrl``, less ``search.mode = outcome`` ones."""
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        notes.append(
            note("Bundle", text_or_none(bundle.get("id")), "entry is not a list", "unparseable")
        )
        return []
    resources: list[tuple[Any, str | None]] = []
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
            full_url = entry.get("fullUrl")
            resources.append((resource, full_url if type(full_url) is str else None))
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
    """``Patient/p1``, ``Patient/p1/_history/3`` -> ``p1``; anything else None.

    Absolute references were made relative by :func:`_flatten` when they name this record's
    server; one still absolute names another server's patient, so it names none here.
    """
    if not is_object(reference):
        return None
    text = reference.get("reference")
    if not isinstance(text, str) or "://" in text:
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
    reason = (
        "about another patient"
        if about
        else foreign_reason(subject) or "names no patient it is about"
    )
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
    where = number_as_text(resource)
    if where is not None:  # a validator would read "26" as 26: the EHR did not send a number
        reason = f"a number sent as text ({where}): not used"
        notes.append(note(str(resource["resourceType"]), resource.get("id"), reason, "unparseable"))
        return None
    noted = len(notes)
    model = validate_resource(resource, notes)
    medication_model = None
    medication_raw = match.medication_raw if "medicationReference" in resource else None
    if model is not None and medication_raw is not None:
        medication_model = validate_resource(medication_raw, notes)
    if match.concepts and len(notes) > noted:  # say what the record would have informed
        concept = concept_key(min(match.concepts))
        at = raw_latest_time(resource, UTC)
        notes[noted:] = [
            replace(n, concept=n.concept or concept, at=n.at or at) for n in notes[noted:]
        ]
    if model is None or (medication_raw is not None and medication_model is None):
        return None
    return ParsedResource(
        resource_type=str(resource["resourceType"]),
        resource_id=resource.get("id"),
        model=model,
        concepts=match.concepts,
        matched_by=match.matched_by,
        matched_code=match.matched_code,
        medication=medication_model,
        quote=match.quote,
    )


def load_deferred(item: DeferredObservation, notes: list[DataQualityNote]) -> ParsedResource | None:
    """Validate a deferred Observation now (None, with a note, when it is not valid FHIR)."""
    return _validated(item.match, notes)


# the numeric elements of what the history reads: a Quantity's value, a schedule's numbers
# (a Quantity's unit or code: an Identifier or ContactPoint also has a string "value" and a system)
_QUANTITY_KEYS = frozenset({"unit", "code", "comparator"})
_SCHEDULE_NUMBERS = frozenset(
    {"frequency", "frequencyMax", "period", "periodMax", "count", "countMax", "duration"}
)


def number_as_text(resource: Any) -> str | None:
    """The path of the first number written as a JSON string (``"26"``), or None. Text that is
    no number at all is left to validation, which refuses it.

    >>> number_as_text({"valueQuantity": {"value": "26", "unit": "kg"}})
    'valueQuantity.value'
    >>> number_as_text({"valueQuantity": {"value": 26, "unit": "kg"}}) is None
    True
    >>> number_as_text({"identifier": [{"system": "urn:mrn", "value": "12345"}]}) is None
    True
    """
    stack: list[tuple[str, Any]] = [("", resource)]
    while stack:  # a walk, not a recursion: hostile records nest deeper than Python recurses
        path, node = stack.pop()
        if type(node) is dict:
            value = node.get("value")
            if type(value) is str and _QUANTITY_KEYS.intersection(node) and _numeric(value):
                return f"{path}.value" if path else "value"
            for key, item in reversed(list(node.items())):
                where = f"{path}.{key}" if path else key
                if key in _SCHEDULE_NUMBERS and type(item) is str and _numeric(item):
                    return where
                if type(item) in (dict, list):
                    stack.append((where, item))
        elif type(node) is list:
            stack.extend(
                (f"{path}.{index}", item) for index, item in reversed(list(enumerate(node)))
            )
    return None


def _numeric(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text.strip()))


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
