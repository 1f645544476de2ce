"""Is a prefetched value what its template asked for? Lenient with clients, strict with data.

A value of an unexpected shape does not fail the call: it is treated as not had, and the ladder
(:mod:`cds_service.gather.prefetch`) notes it and fetches the key from ``fhirServer`` when it may.
What is used is still checked resource by resource later (subject, code, validation).

A read template (``Patient/{{context.patientId}}``) takes:

- the resource itself;
- a Bundle whose only resource, OperationOutcomes aside, is that resource: it is taken out
  (HealthChain's sandbox client sends ``{"patient": Bundle(collection, [Patient])}``). When its
  entry has a ``fullUrl`` (an ``urn:uuid:`` in Synthea's and HealthChain's Bundles), the resource
  stays in a one-entry collection Bundle with that ``fullUrl``, since other resources may name the
  patient by it (cds_service/history/references.py).

A search template (``Observation?patient=...``) takes a Bundle of any type whose entries, if it
has any, hold at least one resource of the template's type: an empty Bundle is a search that found
nothing, entries of other types beside are the ``_include``\\ d ones or harmless, and an entry that
is not a resource becomes a data-quality note when the record is read. A Bundle holding only other
types answers another question and is not used.

The Patient key's resource must carry the context's id. Another id, bare or in a Bundle, is the
client's error (:class:`SchemaViolationError`, 400): answering would mean deciding on one child's
record under another child's name.

Each reason below is PHI-free: it never repeats what the client sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cds_service.errors import SchemaViolationError

_OUTCOME = "OperationOutcome"


@dataclass(frozen=True)
class Unusable:
    """Why a prefetched value was not used, in plain words (``"was not a Patient resource"``)."""

    why: str


def checked_value(
    value: Any, resource_type: str, *, read: bool, key: str, patient_id: str | None = None
) -> dict[str, Any] | Unusable:
    """The value to use for `key` (a read's resource taken out of its Bundle), or why none.

    `patient_id` is given for the Patient key only: its resource must carry that id.
    """
    if type(value) is not dict or type(value.get("resourceType")) is not str:
        return Unusable("was not a FHIR resource")
    if not read:
        return _checked_search(value, resource_type)
    found = _read_resource(value, resource_type)
    if isinstance(found, Unusable):
        return found
    resource, full_url = found
    if patient_id is not None:
        sent_id = resource.get("id")
        if type(sent_id) is not str or not sent_id:
            return Unusable("had no id")
        if sent_id != patient_id:
            raise SchemaViolationError(f"prefetch.{key}: id does not match context.patientId")
    if full_url is None:
        return resource
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": full_url, "resource": resource}],
    }


def _read_resource(
    value: dict[str, Any], resource_type: str
) -> tuple[dict[str, Any], str | None] | Unusable:
    """The resource a read asked for, and the ``fullUrl`` of its Bundle entry if it had one."""
    sent_type = value["resourceType"]
    if sent_type == resource_type:
        return value, None
    if sent_type != "Bundle":
        return Unusable(f"was not a {resource_type} resource")
    resources, unreadable = _entry_resources(value)
    inner = [r for r in resources if r.get("resourceType") != _OUTCOME]
    if unreadable or len(inner) != 1 or inner[0].get("resourceType") != resource_type:
        return Unusable(f"was a Bundle, not one {resource_type} resource")
    entry = next(e for e in value["entry"] if type(e) is dict and e.get("resource") is inner[0])
    full_url = entry.get("fullUrl")
    return inner[0], full_url if type(full_url) is str and full_url else None


def _checked_search(value: dict[str, Any], resource_type: str) -> dict[str, Any] | Unusable:
    if value["resourceType"] != "Bundle":
        return Unusable("was not a Bundle of search results")
    entries = value.get("entry")
    if entries is None:
        return value
    if type(entries) is not list:
        return Unusable("was a Bundle whose entries are not a list")
    other_types = False
    readable = 0
    for entry in entries:  # the usual searchset answers at its first entry
        resource = entry.get("resource") if type(entry) is dict else None
        if type(resource) is not dict:
            continue
        sent_type = resource.get("resourceType")
        if sent_type == resource_type:
            return value
        readable += 1
        other_types = other_types or sent_type != _OUTCOME
    if entries and not readable:
        return Unusable("held no readable entries")
    if other_types:
        return Unusable(f"held no {resource_type} resources, only other types")
    return value  # nothing found, or only OperationOutcomes about the search


def _entry_resources(bundle: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The resources of a Bundle's entries, and how many entries held none."""
    entries = bundle.get("entry")
    if entries is None:
        return [], 0
    if type(entries) is not list:
        return [], 1
    resources = [
        entry["resource"]
        for entry in entries
        if type(entry) is dict and type(entry.get("resource")) is dict
    ]
    return resources, len(entries) - len(resources)
