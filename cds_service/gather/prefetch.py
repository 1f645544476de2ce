"""The prefetch ladder: use what the client sent, else fetch it from ``fhirServer``, else 412.

For each prefetch key of the service:

- sent with a value -> used as is (a searchset with a ``next`` link gets its remaining pages
  fetched from ``fhirServer`` when one is given, else a gather note says it was cut short);
- sent as ``null`` -> the client has no data: not refetched;
- sent as an ``OperationOutcome`` -> "could not be had": noted, not refetched;
- not sent -> fetched from ``fhirServer`` (with the ``fhirAuthorization`` bearer token), all such
  keys concurrently, following ``next`` links up to ``fhir_max_pages``.

Without the Patient there is nothing to decide on: :class:`DataUnavailableError` (412). Other keys
that cannot be had become gather notes ("MedicationRequest search cut short after 20 pages"):
short, PHI-free, starting with the FHIR resource type, for the data-quality card.

Nothing here unwraps or parses resources: ``fhir_parse`` does that, once, for prefetched and
fetched values alike, and checks every resource's subject and code itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from concurrent.futures import ALL_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin

import requests
from requests.adapters import HTTPAdapter

from cds_service.config import Settings
from cds_service.errors import DataUnavailableError, SchemaViolationError
from cds_service.gather.fhir_client import (
    Deadline,
    FhirCall,
    FhirClient,
    FhirFetchError,
    check_server_allowed,
    next_link,
)
from cds_service.gather.limits import count_resources
from cds_service.gather.registry import PATIENT_KEY, ServiceDefinition

_TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")
_USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}


@dataclass
class Gathered:
    """What one hook call gathered: raw JSON values as received, and what could not be had."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # prefetch key -> "prefetch" | "fetched" | "null" | "unavailable"
    sources: dict[str, str] = field(default_factory=dict)
    fhir_calls: list[FhirCall] = field(default_factory=list)


def fill_template(template: str, context: Mapping[str, Any]) -> str | None:
    """Fill ``{{context.x}}`` and ``{{userPractitionerId}}``-style tokens; None if one is unknown.

    >>> fill_template("Patient/{{context.patientId}}", {"patientId": "p1"})
    'Patient/p1'
    >>> fill_template("Practitioner/{{userPractitionerId}}", {"userId": "Practitioner/7"})
    'Practitioner/7'
    """
    unfilled = False

    def value_of(match: re.Match[str]) -> str:
        nonlocal unfilled
        token = match.group(1)
        value: Any = None
        if token.startswith("context."):
            value = context.get(token.removeprefix("context."))
        elif token in _USER_TOKENS:
            resource_type, _, resource_id = str(context.get("userId", "")).partition("/")
            value = resource_id if resource_type == _USER_TOKENS[token] else None
        if not isinstance(value, str) or not value:
            unfilled = True
            return ""
        return quote(value, safe="")

    filled = _TOKEN.sub(value_of, template)
    return None if unfilled else filled


def resource_type_of(template: str) -> str:
    return re.split(r"[/?]", template, maxsplit=1)[0]


def gather(
    request_body: Mapping[str, Any],
    service: ServiceDefinition,
    settings: Settings,
    on_fhir_call: Callable[[FhirCall], None] | None = None,
) -> Gathered:
    """Run the ladder for one validated hook request (see the module docstring).

    ``on_fhir_call`` is told of each FHIR call as it ends (the web layer counts and audits them).
    """
    gathered = Gathered()
    prefetch: Mapping[str, Any] = request_body.get("prefetch") or {}
    context: Mapping[str, Any] = request_body["context"]
    to_fetch: dict[str, str] = {}  # key -> relative URL to search/read
    to_continue: dict[str, str] = {}  # key -> next link of a prefetched searchset

    for key, template in service.prefetch.items():
        resource_type = resource_type_of(template)
        if key in prefetch:
            _take_prefetched(key, resource_type, prefetch[key], context, gathered, to_continue)
            continue
        relative_url = fill_template(template, context)
        if relative_url is None:
            gathered.sources[key] = "unavailable"
            gathered.notes.append(f"{resource_type} not sent and its query cannot be filled")
        else:
            to_fetch[key] = relative_url

    if to_fetch or to_continue:
        _fetch_missing(
            request_body, service, settings, to_fetch, to_continue, gathered, on_fhir_call
        )
        _keep_within_budget(gathered, settings.max_prefetch_resources)
    if gathered.sources.get(PATIENT_KEY) in {"null", "unavailable", None}:
        reasons = [note for note in gathered.notes if note.startswith("Patient")]
        raise DataUnavailableError(
            "the Patient could not be obtained" + (f": {'; '.join(reasons)}" if reasons else ""),
            missing=tuple(
                k
                for k, source in gathered.sources.items()
                if source != "prefetch" and source != "fetched"
            ),
        )
    return gathered


def _take_prefetched(
    key: str,
    resource_type: str,
    value: Any,
    context: Mapping[str, Any],
    gathered: Gathered,
    to_continue: dict[str, str],
) -> None:
    if value is None:
        gathered.sources[key] = "null"
        return
    sent_type = value.get("resourceType")
    if sent_type == "OperationOutcome":
        gathered.sources[key] = "unavailable"
        gathered.notes.append(f"{resource_type} could not be had (the client sent an error)")
        return
    if key == PATIENT_KEY:
        _check_patient(value, context)
    gathered.sources[key] = "prefetch"
    gathered.resources.append(dict(value))
    link = next_link(value) if sent_type == "Bundle" else None
    if link is not None:
        to_continue[key] = link


def _check_patient(value: Mapping[str, Any], context: Mapping[str, Any]) -> None:
    # A Patient of another id is a client error, not missing data: answering would mean
    # deciding on one child's record under another child's name.
    if value.get("resourceType") != "Patient":
        raise SchemaViolationError("prefetch.patient: must be a Patient resource")
    if value.get("id") != context.get("patientId"):
        raise SchemaViolationError("prefetch.patient: id does not match context.patientId")


def _fetch_missing(
    request_body: Mapping[str, Any],
    service: ServiceDefinition,
    settings: Settings,
    to_fetch: Mapping[str, str],
    to_continue: Mapping[str, str],
    gathered: Gathered,
    on_fhir_call: Callable[[FhirCall], None] | None,
) -> None:
    server = request_body.get("fhirServer")
    types = {key: resource_type_of(template) for key, template in service.prefetch.items()}
    if not isinstance(server, str):
        for key in to_fetch:
            gathered.sources[key] = "unavailable"
            gathered.notes.append(f"{types[key]} not sent in prefetch and no fhirServer given")
        for key in to_continue:
            gathered.notes.append(f"{types[key]} prefetch was cut short (more pages, no server)")
        return
    if PATIENT_KEY in to_fetch:
        check_server_allowed(server, settings)  # 412 before any connection
    else:
        try:
            check_server_allowed(server, settings)
        except DataUnavailableError as refused:
            for key in [*to_fetch, *to_continue]:
                gathered.sources.setdefault(key, "unavailable")
                gathered.notes.append(f"{types[key]} not fetched: {refused.diagnostics}")
            return
    token = (request_body.get("fhirAuthorization") or {}).get("access_token")
    _run_fetches(server, token, settings, to_fetch, to_continue, types, gathered, on_fhir_call)


def _run_fetches(
    server: str,
    token: str | None,
    settings: Settings,
    to_fetch: Mapping[str, str],
    to_continue: Mapping[str, str],
    types: Mapping[str, str],
    gathered: Gathered,
    on_fhir_call: Callable[[FhirCall], None] | None,
) -> None:
    deadline = Deadline(settings.request_deadline_s)
    jobs = {
        **{k: (u, 0) for k, u in to_fetch.items()},
        **{k: (u, 1) for k, u in to_continue.items()},
    }
    with requests.Session() as session:
        adapter = HTTPAdapter(pool_maxsize=settings.fhir_max_concurrency)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        client = FhirClient(server, settings, deadline, session, token, on_call=on_fhir_call)
        pool = ThreadPoolExecutor(max_workers=min(settings.fhir_max_concurrency, len(jobs)))
        try:
            futures: dict[str, Future[_KeyResult]] = {
                key: pool.submit(_fetch_key, client, url, pages_done, types[key])
                for key, (url, pages_done) in jobs.items()
            }
            wait(futures.values(), timeout=deadline.remaining(), return_when=ALL_COMPLETED)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        for key, future in futures.items():
            _collect(key, future, key in to_continue, types[key], gathered)
        gathered.fhir_calls.extend(client.calls)


def _keep_within_budget(gathered: Gathered, most: int) -> None:
    """Drop fetched pages past `most` resources in all, and say so (prefetch comes first and
    was checked against the same limit by the HTTP layer)."""
    kept: list[dict[str, Any]] = []
    total = 0
    for value in gathered.resources:
        size = count_resources([value])
        if total + size > most:
            gathered.notes.append(
                f"{_content_type(value)} data past {most} resources in all was not used "
                "(CDS_MAX_PREFETCH_RESOURCES)"
            )
            break
        kept.append(value)
        total += size
    gathered.resources[:] = kept


def _content_type(value: Mapping[str, Any]) -> str:
    """The resource type a value carries (a searchset: that of its first entry)."""
    entries = value.get("entry") if value.get("resourceType") == "Bundle" else None
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        inner = entries[0].get("resource")
        if isinstance(inner, dict) and isinstance(inner.get("resourceType"), str):
            return str(inner["resourceType"])
    return str(value.get("resourceType", "FHIR"))


@dataclass
class _KeyResult:
    values: list[dict[str, Any]]
    note: str | None = None


def _fetch_key(client: FhirClient, url: str, pages_done: int, resource_type: str) -> _KeyResult:
    """Fetch one key: a read, or a search followed page by page (``pages_done`` already had)."""
    values: list[dict[str, Any]] = []
    current: str | None = urljoin(client.base_url.rstrip("/") + "/", url)
    seen: set[str] = set()
    while current is not None:
        if current in seen:
            return _KeyResult(values, f"{resource_type} search stopped: its next link loops")
        seen.add(current)
        if pages_done >= client.settings.fhir_max_pages:
            pages = client.settings.fhir_max_pages
            return _KeyResult(values, f"{resource_type} search cut short after {pages} pages")
        try:
            value = client.get_json(current, resource_type)
        except FhirFetchError as failed:
            if not values and pages_done == 0:
                raise
            return _KeyResult(values, f"{failed.reason} (search cut short)")
        values.append(value)
        pages_done += 1
        link = next_link(value) if value.get("resourceType") == "Bundle" else None
        current = urljoin(current, link) if link else None
    return _KeyResult(values)


def _collect(
    key: str, future: Future[_KeyResult], continuing: bool, resource_type: str, gathered: Gathered
) -> None:
    if future.cancelled() or not future.done():  # shutdown cancels what never started
        future.cancel()
        if not continuing:
            gathered.sources[key] = "unavailable"
        gathered.notes.append(f"{resource_type} fetch did not finish before the deadline")
        return
    try:
        result = future.result()
    except FhirFetchError as failed:
        if not continuing:
            gathered.sources[key] = "unavailable"
        gathered.notes.append(failed.reason)
        return
    usable = [v for v in result.values if v.get("resourceType") != "OperationOutcome"]
    if not continuing:
        gathered.sources[key] = "fetched" if usable else "unavailable"
        if not usable:
            gathered.notes.append(f"{resource_type} could not be had (the server sent an error)")
    gathered.resources.extend(usable)
    if result.note:
        gathered.notes.append(result.note)
