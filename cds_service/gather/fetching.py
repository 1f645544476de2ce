"""Fetching the prefetch keys a client did not send (or sent in part), all at once, in one deadline.

Each key is a read, or a search followed ``next`` link by ``next`` link up to ``fhir_max_pages``
pages in all (a prefetched searchset's own page counts). What comes back per key is a
:class:`KeyResult` (the pages, and a note when the search was cut short), the
:class:`FhirFetchError` that stopped it before any page, or ``None`` when the deadline passed
first. The ladder (:mod:`cds_service.gather.prefetch`) turns these into sources and notes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ALL_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from cds_service.config import Settings
from cds_service.gather.fhir_client import Deadline, FhirCall, FhirClient, FhirFetchError, next_link


@dataclass(frozen=True)
class KeyJob:
    """One key to fetch: where, how many of its pages were already had, and what to call it."""

    url: str  # relative to the server (a template filled) or absolute (a next link)
    pages_done: int
    resource_type: str  # for the call records (metrics, audit)
    label: str  # for notes: the resource type, or a plainer name when two keys share one


@dataclass
class KeyResult:
    values: list[dict[str, Any]]
    note: str | None = None


KeyOutcome = KeyResult | FhirFetchError | None


def run_fetches(
    server: str,
    token: str | None,
    settings: Settings,
    jobs: Mapping[str, KeyJob],
    on_fhir_call: Callable[[FhirCall], None] | None,
) -> tuple[dict[str, KeyOutcome], list[FhirCall]]:
    """Fetch every job concurrently (at most ``fhir_max_concurrency`` calls) before the deadline."""
    deadline = Deadline(settings.request_deadline_s)
    with requests.Session() as session:
        adapter = HTTPAdapter(pool_maxsize=settings.fhir_max_concurrency)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        client = FhirClient(server, settings, deadline, session, token, on_call=on_fhir_call)
        pool = ThreadPoolExecutor(max_workers=min(settings.fhir_max_concurrency, len(jobs)))
        try:
            futures: dict[str, Future[KeyResult]] = {
                key: pool.submit(fetch_key, client, job) for key, job in jobs.items()
            }
            wait(futures.values(), timeout=deadline.remaining(), return_when=ALL_COMPLETED)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return {key: _outcome(future) for key, future in futures.items()}, list(client.calls)


def _outcome(future: Future[KeyResult]) -> KeyOutcome:
    if future.cancelled() or not future.done():  # shutdown cancels what never started
        future.cancel()
        return None
    try:
        return future.result()
    except FhirFetchError as failed:
        return failed


def fetch_key(client: FhirClient, job: KeyJob) -> KeyResult:
    """Fetch one key: a read, or a search followed page by page."""
    values: list[dict[str, Any]] = []
    pages_done = job.pages_done
    current: str | None = urljoin(client.base_url.rstrip("/") + "/", job.url)
    seen: set[str] = set()
    while current is not None:
        if current in seen:
            return KeyResult(values, f"{job.label} search stopped: its next link loops")
        seen.add(current)
        if pages_done >= client.settings.fhir_max_pages:
            pages = client.settings.fhir_max_pages
            return KeyResult(values, f"{job.label} search cut short after {pages} pages")
        try:
            value = client.get_json(current, job.resource_type, label=job.label)
        except FhirFetchError as failed:
            if not values and pages_done == 0:
                raise
            return KeyResult(values, f"{failed.reason} (search cut short)")
        values.append(value)
        pages_done += 1
        link = next_link(value) if value.get("resourceType") == "Bundle" else None
        current = urljoin(current, link) if link else None
    return KeyResult(values)
