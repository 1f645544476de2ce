"""References as EHRs send them, turned into the relative ``Type/id`` form the history compares.

Three forms arrive besides ``Patient/p1``:

- ``urn:uuid:…`` (and ``urn:oid:…``): the ``fullUrl`` of another entry of the same transaction or
  collection Bundle (Synthea writes every reference so). Resolved through the Bundle's entries to
  that entry's ``Type/id``; one that names no entry stays as it is (and so names nothing).
- ``https://server/fhir/Patient/p1`` (optionally ``/_history/3``): the same patient only when
  ``server`` is the FHIR server this call read from, or the base of the entry's own ``fullUrl``
  (a searchset written by that server). Another server's ``Patient/p1`` is another patient, even
  with the same id; the reference is left absolute, and absolute references never match.
- ``#id``: a contained resource; left alone (only ``medicationReference`` uses one).

Only the elements the history follows are rewritten: the patient a record is about, the
Medication it names, and the order it replaces. A resource is copied only when one changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

# the elements the history follows from a record to another resource
FOLLOWED_ELEMENTS = ("subject", "patient", "medicationReference", "priorPrescription")

_HISTORY = "_history"


def entry_aliases(entries: Iterable[tuple[Mapping[str, Any], str | None]]) -> dict[str, str]:
    """``fullUrl`` -> ``Type/id`` for every Bundle entry whose resource has a type and an id."""
    aliases: dict[str, str] = {}
    for resource, full_url in entries:
        if full_url is None:
            continue
        resource_type, resource_id = resource.get("resourceType"), resource.get("id")
        if type(resource_type) is str and type(resource_id) is str:
            aliases[full_url] = f"{resource_type}/{resource_id}"
    return aliases


def server_base(url: str | None) -> str | None:
    """``https://ehr/fhir/`` -> ``https://ehr/fhir``; not an http(s) URL -> None."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    return url.rstrip("/")


def own_base(full_url: str | None, resource: Mapping[str, Any]) -> str | None:
    """The server base of an absolute ``fullUrl``: ``…/fhir/Observation/1`` -> ``…/fhir``."""
    if full_url is None or "://" not in full_url:
        return None
    tail = f"/{resource.get('resourceType')}/{resource.get('id')}"
    return full_url[: -len(tail)] if full_url.endswith(tail) else None


def split_absolute(reference: str) -> tuple[str, str] | None:
    """``https://s/fhir/Patient/p1/_history/2`` -> (``https://s/fhir``, ``Patient/p1``)."""
    parts = reference.split("/")
    if len(parts) >= 2 and parts[-2] == _HISTORY:
        parts = parts[:-2]
    if len(parts) < 5 or not parts[-2] or not parts[-1]:  # scheme, '', host, Type, id
        return None
    return "/".join(parts[:-2]), f"{parts[-2]}/{parts[-1]}"


def resolve(reference: str, aliases: Mapping[str, str], trusted_bases: frozenset[str]) -> str:
    """The relative form of `reference` when it names a resource of this record, else unchanged."""
    alias = aliases.get(reference)
    if alias is not None:
        return alias
    if "://" not in reference:
        return reference  # relative, contained, or an urn that names no entry
    split = split_absolute(reference)
    if split is None or split[0] not in trusted_bases:
        return reference  # another server's resource: never this record's
    return split[1]


def with_local_references(
    resource: Mapping[str, Any],
    full_url: str | None,
    aliases: Callable[[], Mapping[str, str]],
    server: str | None,
) -> Mapping[str, Any]:
    """`resource`, copied with its followed references made relative when any of them can be.

    `full_url` is its Bundle entry's ``fullUrl``; `aliases` gives :func:`entry_aliases` of the
    record (asked only for a reference that is not relative); `server` the base of the FHIR
    server read from.
    """
    changed: dict[str, Any] | None = None
    trusted_bases: frozenset[str] | None = None
    for element in FOLLOWED_ELEMENTS:
        value = resource.get(element)
        if type(value) is not dict:
            continue
        reference = value.get("reference")
        if type(reference) is not str or not (reference.startswith("urn:") or "://" in reference):
            continue  # the usual relative form: nothing to do
        if trusted_bases is None:
            bases = (server_base(server), own_base(full_url, resource))
            trusted_bases = frozenset(base for base in bases if base is not None)
        local = resolve(reference, aliases(), trusted_bases)
        if local != reference:
            changed = changed if changed is not None else dict(resource)
            changed[element] = {**value, "reference": local}
    return changed if changed is not None else resource


def foreign_reason(reference: Any) -> str | None:
    """Why a reference left after :func:`with_local_references` names nothing here, if it does."""
    text = reference.get("reference") if type(reference) is dict else None
    if type(text) is not str:
        return None
    if text.startswith("urn:"):
        return "names a patient by a Bundle address that no entry has"
    if "://" in text:
        return "names a patient on another FHIR server"
    return None
