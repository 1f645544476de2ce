"""Helpers for tests of the prefetch ladder: the discovery templates, a full prefetch built by
running them against a FHIR server (as a paging EHR does), and ways to compare what arrived.

    prefetch = full_prefetch(app, server, patient_id)   # every key, every page, merged
    by_identity(spy["resources"])                       # {"Observation/o1": {...}, ...}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fhir_server import SekmetServer
from flask import Flask

SERVICE_URL = "/cds-services/jdm-ivig"


def templates(app: Flask, patient_id: str) -> dict[str, str]:
    """The discovery document's prefetch templates, filled for `patient_id`."""
    prefetch: dict[str, str] = (
        app.test_client().get("/cds-services").get_json()["services"][0]["prefetch"]
    )
    return {k: t.replace("{{context.patientId}}", patient_id) for k, t in prefetch.items()}


def full_prefetch(app: Flask, server: SekmetServer, patient_id: str) -> dict[str, Any]:
    """What a paging EHR sends: every template run to its last page, merged into one Bundle."""
    prefetch: dict[str, Any] = {}
    for key, url in templates(app, patient_id).items():
        if key == "patient":
            prefetch[key] = server.request("GET", url)
            continue
        pages = server.search_all(url)
        entries = [entry for page in pages for entry in page.get("entry", [])]
        prefetch[key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(entries),
            "entry": entries,
        }
    return prefetch


def flatten(values: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The resources of single values and Bundle entries (outcomes and broken entries left out)."""
    for value in values:
        if value.get("resourceType") == "Bundle":
            for entry in value.get("entry", []):
                if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
                    continue
                if entry.get("search", {}).get("mode") != "outcome":
                    yield entry["resource"]
        else:
            yield value


def by_identity(values: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{r['resourceType']}/{r['id']}": r for r in flatten(values)}


def without_uuids(value: Any) -> Any:
    """Cards minus their random uuids (new on every call by design)."""
    if isinstance(value, dict):
        return {k: without_uuids(v) for k, v in value.items() if k != "uuid"}
    if isinstance(value, list):
        return [without_uuids(v) for v in value]
    return value


def post(app: Flask, body: dict[str, Any]) -> Any:
    return app.test_client().post(SERVICE_URL, json=body)
