"""Bundles: a transaction (PUT by id, to load a FHIR server) and a searchset (a search's answer,
as a CDS Hooks prefetch holds it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from fhir_fixtures.builders.elements import Json

FullUrl = Callable[[Mapping[str, Any]], str]


def resource_url(resource: Mapping[str, Any]) -> str:
    """``<type>/<id>``: the relative URL of a resource."""
    return f"{resource['resourceType']}/{resource['id']}"


def stable_urn(resource: Mapping[str, Any]) -> str:
    """A ``urn:uuid:`` that is the same for the same type and id on every run."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, resource_url(resource))}"


def transaction_entry(resource: Mapping[str, Any], full_url: str | None = None) -> Json:
    entry: Json = {}
    if full_url is not None:
        entry["fullUrl"] = full_url
    entry["resource"] = resource
    entry["request"] = {"method": "PUT", "url": resource_url(resource)}
    return entry


def transaction(resources: Iterable[Mapping[str, Any]], full_url: FullUrl | None = None) -> Json:
    """A transaction Bundle that PUTs each resource by id; ``full_url(resource)`` names each entry
    (none: no fullUrl)."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            transaction_entry(r, None if full_url is None else full_url(r)) for r in resources
        ],
    }


def searchset_entry(resource: Mapping[str, Any], full_url: str | None = None) -> Json:
    entry: Json = {}
    if full_url is not None:
        entry["fullUrl"] = full_url
    entry["resource"] = resource
    entry["search"] = {"mode": "match"}
    return entry


def searchset(
    resources: Iterable[Mapping[str, Any]],
    full_url: FullUrl | None = stable_urn,
    *,
    total: int | Literal["count"] | None = "count",
) -> Json:
    """A searchset Bundle of `resources` (each a match). ``total``: the number of resources
    ("count"), another number (a page of a longer search), or None for no total."""
    matches = list(resources)
    bundle: Json = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = len(matches) if total == "count" else total
    bundle["entry"] = [
        searchset_entry(r, None if full_url is None else full_url(r)) for r in matches
    ]
    return bundle
