"""Fetching the prefetch keys a client did not send: concurrently, page by page, within budgets.

Each key is a read (the Patient) or a search followed by its ``next`` links. All of a call's
fetches share one deadline (:class:`~cds_service.gather.deadline.Deadline`, the call's minus its
reserve for evaluating) and one :class:`~cds_service.gather.budget.FetchBudget`: a page's bytes are
counted as they arrive and its resources once it is read, so a search stops at the page that
would cross the budget, and what was not fetched is never held. Each page's resources are
screened against the per-resource limits before anything reads them.

:func:`run_fetches` returns one :class:`KeyOutcome` per key; the prefetch ladder turns them into
sources and notes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ALL_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from cds_service.config import Settings
from cds_service.gather.budget import FetchBudget
from cds_service.gather.deadline import Deadline
from cds_service.gather.fhir_client import FhirCall, FhirClient, FhirFetchError, next_link
from cds_service.gather.limits import ResourceLimits
from cds_service.gather.screening import left_out_note, screen


@dataclass
class KeyOutcome:
    """What fetching one key gave: values (pages or a resource), notes, or the failure."""

    values: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failure: str | None = None  # why nothing at all could be had
    finished: bool = True  # False: still running at the deadline


@dataclass(frozen=True)
class FetchJob:
    url: str  # relative to the server's base, or absolute (a prefetched searchset's next link)
    resource_type: str  # for the call records (metrics, audit)
    label: str  # for notes: the resource type, or a plainer name when two keys share one
    pages_done: int = 0  # pages the client already sent
    required: bool = False  # the Patient: counted against the budget, never stopped by it


@dataclass
class _Fetcher:
    client: FhirClient
    budget: FetchBudget
    limits: ResourceLimits
    max_pages: int

    def fetch(self, job: FetchJob) -> KeyOutcome:
        """Fetch one key: a read, or a search followed page by page."""
        outcome = KeyOutcome()
        current: str | None = urljoin(self.client.base_url.rstrip("/") + "/", job.url)
        seen: set[str] = set()
        pages_done = job.pages_done
        while current is not None:
            if current in seen:
                outcome.notes.append(f"{job.label} search stopped: its next link loops")
                break
            seen.add(current)
            if pages_done >= self.max_pages:
                pages = self.max_pages
                outcome.notes.append(f"{job.label} search cut short after {pages} pages")
                break
            try:
                value = self.client.get_json(
                    current, job.resource_type, label=job.label, required=job.required
                )
            except FhirFetchError as failed:
                if pages_done == 0:  # nothing at all had for this key
                    return KeyOutcome(failure=failed.reason)
                outcome.notes.append(f"{failed.reason} (search cut short)")
                break
            pages_done += 1
            kept, more = self._keep(value, job, outcome)
            if kept is not None:
                outcome.values.append(kept)
            link = next_link(value) if more and value.get("resourceType") == "Bundle" else None
            current = urljoin(current, link) if link else None
        return outcome

    def _keep(
        self, value: dict[str, Any], job: FetchJob, outcome: KeyOutcome
    ) -> tuple[dict[str, Any] | None, bool]:
        """The part of one answer to keep, and whether to go on to the next page."""
        screened = screen(value, self.limits)
        if screened.value is None:  # a single resource over a limit
            if job.required:
                raise _Unusable(f"{job.label}: {screened.reason}")
            outcome.notes.append(left_out_note(job.label, screened))
            return None, False
        if screened.left_out:
            outcome.notes.append(left_out_note(job.label, screened))
        kept = screened.value
        entries = kept.get("entry") if kept.get("resourceType") == "Bundle" else None
        wanted = len(entries) if isinstance(entries, list) else 1
        granted = self.budget.take_resources(wanted)
        if job.required or granted == wanted:
            return kept, True
        outcome.notes.append(self.budget.resources_note(job.label))
        if isinstance(entries, list) and granted:
            return {**kept, "entry": entries[:granted]}, False
        return None, False


class _Unusable(Exception):
    """A required resource was had but cannot be used (over a per-resource limit)."""


def run_fetches(
    server: str,
    token: str | None,
    settings: Settings,
    jobs: Mapping[str, FetchJob],
    deadline: Deadline,
    budget: FetchBudget,
    on_fhir_call: Callable[[FhirCall], None] | None,
) -> tuple[dict[str, KeyOutcome], list[FhirCall]]:
    """Fetch every job at once (at most ``fhir_max_concurrency``) until `deadline`."""
    with requests.Session() as session:
        adapter = HTTPAdapter(pool_maxsize=settings.fhir_max_concurrency)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        client = FhirClient(
            server, settings, deadline, session, token, budget=budget, on_call=on_fhir_call
        )
        fetcher = _Fetcher(client, budget, ResourceLimits.of(settings), settings.fhir_max_pages)
        pool = ThreadPoolExecutor(max_workers=min(settings.fhir_max_concurrency, len(jobs)))
        try:
            futures: dict[str, Future[KeyOutcome]] = {
                key: pool.submit(fetcher.fetch, job) for key, job in jobs.items()
            }
            wait(futures.values(), timeout=deadline.remaining(), return_when=ALL_COMPLETED)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        outcomes = {key: _outcome_of(future) for key, future in futures.items()}
        return outcomes, list(client.calls)


def _outcome_of(future: Future[KeyOutcome]) -> KeyOutcome:
    if future.cancelled() or not future.done():  # shutdown cancels what never started
        future.cancel()
        return KeyOutcome(finished=False)
    try:
        return future.result()
    except _Unusable as unusable:
        return KeyOutcome(failure=str(unusable))
