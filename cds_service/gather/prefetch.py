"""The prefetch ladder: use what the client sent, else fetch it from ``fhirServer``, else 412.

For each prefetch key of the service:

- sent with a value of the shape its template asks for -> used as is (a searchset with a
  ``next`` link gets its remaining pages fetched from ``fhirServer`` when one is given, else a
  gather note says it was cut short);
- sent with a value of another shape (a Bundle where a Patient was asked for, a JSON array, a
  Bundle of other resource types...: :mod:`cds_service.gather.prefetch_values`) -> not used, and
  treated as not sent, with a note saying so;
- sent as ``null`` -> the client has no data: not refetched;
- sent as an ``OperationOutcome`` -> "could not be had": noted, not refetched;
- not sent -> fetched from ``fhirServer`` (with the ``fhirAuthorization`` bearer token), all such
  keys concurrently, following ``next`` links up to ``fhir_max_pages``, within one budget of
  resources and bytes for the call (:mod:`cds_service.gather.fetching`) and before the call's
  fetch deadline; only while holding one of the FHIR server's slots (``fetch_slot``).

Every resource, sent or fetched, is screened against the per-resource limits
(:mod:`cds_service.gather.screening`) before anything reads it: one over a limit is left out with
a note naming the limit; a prefetched Patient over a limit is a 413, a fetched one a 412.

Without the Patient there is nothing to decide on: :class:`DataUnavailableError` (412). Other keys
that cannot be had become gather notes ("MedicationRequest search cut short after 20 pages"):
short, PHI-free, starting with the FHIR resource type, for the data-quality card. A prefetched
value that was replaced by a successful fetch changed nothing the cards rest on: its note goes to
``Gathered.client_notes``, for the response and not the cards.

Nothing here parses resources: ``fhir_parse`` does that, once, for prefetched and fetched values
alike, and checks every resource's subject and code itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from cds_service.config import Settings
from cds_service.errors import BodyTooLargeError, DataUnavailableError
from cds_service.gather.budget import FetchBudget
from cds_service.gather.deadline import CallDeadline, Deadline
from cds_service.gather.fetching import FetchJob, KeyOutcome, run_fetches
from cds_service.gather.fhir_client import FhirCall, check_server_allowed, next_link
from cds_service.gather.limits import ResourceLimits, count_resources
from cds_service.gather.prefetch_values import Unusable, checked_value
from cds_service.gather.registry import (
    PATIENT_KEY,
    ServiceDefinition,
    is_read,
    resource_type_of,
)
from cds_service.gather.screening import left_out_note, screen

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
    notes: list[str] = field(default_factory=list)  # what could not be had: for the cards too
    # prefetched values replaced by a successful fetch: for the response only (no card changes)
    client_notes: list[str] = field(default_factory=list)
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


@dataclass
class _Plan:
    """What is left to do once the prefetch is read."""

    to_fetch: dict[str, str] = field(default_factory=dict)  # key -> relative URL
    to_continue: dict[str, str] = field(default_factory=dict)  # key -> next link of a searchset
    unusable: dict[str, str] = field(default_factory=dict)  # key -> why its value was not used


FetchSlot = Callable[[str], AbstractContextManager[None]]


def gather(
    request_body: Mapping[str, Any],
    service: ServiceDefinition,
    settings: Settings,
    on_fhir_call: Callable[[FhirCall], None] | None = None,
    deadline: CallDeadline | None = None,
    fetch_slot: FetchSlot | None = None,
) -> Gathered:
    """Run the ladder for one validated hook request (see the module docstring).

    ``on_fhir_call`` is told of each FHIR call as it ends (the web layer counts and audits them).
    ``deadline`` is the whole call's (a new one of ``request_deadline_s`` when not given): fetches
    end ``evaluate_reserve_s`` before it. ``fetch_slot(server)`` is held around the fetches, and
    only when there is something to fetch (it may raise 412 when the server's slots are taken).
    """
    deadline = deadline or CallDeadline(settings.request_deadline_s)
    gathered, plan = Gathered(), _Plan()
    prefetch: Mapping[str, Any] = request_body.get("prefetch") or {}
    context: Mapping[str, Any] = request_body["context"]
    limits = ResourceLimits.of(settings)
    for key, template in service.prefetch.items():
        if key in prefetch:
            why = _take_prefetched(key, service, prefetch[key], context, gathered, plan, limits)
            if why is None:
                continue
            plan.unusable[key] = why
        relative_url = fill_template(template, context)
        if relative_url is not None:
            plan.to_fetch[key] = relative_url
            continue
        gathered.sources[key] = "unavailable"
        if key not in plan.unusable:
            gathered.notes.append(f"{service.label(key)} not sent and its query cannot be filled")
    if plan.to_fetch or plan.to_continue:
        fetching = _Fetching(
            deadline.for_fetching(settings.evaluate_reserve_s),
            FetchBudget.for_call(settings, count_resources(gathered.resources)),
            fetch_slot or (lambda _server: nullcontext()),
            on_fhir_call,
        )
        _fetch_missing(request_body, service, settings, plan, gathered, fetching)
    _note_unusable(service, plan.unusable, gathered)
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
    service: ServiceDefinition,
    value: Any,
    context: Mapping[str, Any],
    gathered: Gathered,
    plan: _Plan,
    limits: ResourceLimits,
) -> str | None:
    """Use what the client sent for `key` (without resources over the per-resource limits);
    return why not when it cannot be used."""
    if value is None:
        gathered.sources[key] = "null"
        return None
    if type(value) is dict and value.get("resourceType") == "OperationOutcome":
        gathered.sources[key] = "unavailable"
        gathered.notes.append(f"{service.label(key)} could not be had (the client sent an error)")
        return None
    template = service.prefetch[key]
    checked = checked_value(
        value,
        resource_type_of(template),
        read=is_read(template),
        key=key,
        patient_id=context.get("patientId") if key == PATIENT_KEY else None,
    )
    if isinstance(checked, Unusable):
        return checked.why
    screened = screen(checked, limits)
    if screened.left_out:
        if key == PATIENT_KEY:  # nothing can be decided without it: the client must send less
            raise BodyTooLargeError(f"prefetch.patient: the Patient's {screened.reason}")
        gathered.notes.append(left_out_note(service.label(key), screened))
    if screened.value is None:
        gathered.sources[key] = "unavailable"
        return None
    gathered.sources[key] = "prefetch"
    gathered.resources.append(screened.value)
    link = next_link(checked) if checked.get("resourceType") == "Bundle" else None
    if link is not None:
        plan.to_continue[key] = link
    return None


def _note_unusable(
    service: ServiceDefinition, unusable: Mapping[str, str], gathered: Gathered
) -> None:
    """Say what was sent and not used: for the response only when a fetch replaced it, else
    first among the notes (it is why the key is missing)."""
    missing = []
    for key, why in unusable.items():
        if gathered.sources.get(key) == "fetched":
            gathered.client_notes.append(
                f"{service.label(key)} prefetch {why}: fetched from the FHIR server instead"
            )
        else:
            missing.append(f"{service.label(key)} prefetch {why}: not used")
    gathered.notes[:0] = missing


@dataclass(frozen=True)
class _Fetching:
    """What bounds a call's fetches: their deadline, the call's budget, the server's slot."""

    deadline: Deadline
    budget: FetchBudget
    slot: FetchSlot
    on_fhir_call: Callable[[FhirCall], None] | None


def _fetch_missing(
    request_body: Mapping[str, Any],
    service: ServiceDefinition,
    settings: Settings,
    plan: _Plan,
    gathered: Gathered,
    fetching: _Fetching,
) -> None:
    server = request_body.get("fhirServer")
    if not isinstance(server, str):
        for key in plan.to_fetch:
            gathered.sources[key] = "unavailable"
            if key not in plan.unusable:  # that one is noted as sent and not used
                gathered.notes.append(
                    f"{service.label(key)} not sent in prefetch and no fhirServer given"
                )
        for key in plan.to_continue:
            gathered.notes.append(
                f"{service.label(key)} prefetch was cut short (more pages, no server)"
            )
        return
    if PATIENT_KEY in plan.to_fetch:
        check_server_allowed(server, settings)  # 412 before any connection
    else:
        try:
            check_server_allowed(server, settings)
        except DataUnavailableError as refused:
            for key in [*plan.to_fetch, *plan.to_continue]:
                gathered.sources.setdefault(key, "unavailable")
                gathered.notes.append(f"{service.label(key)} not fetched: {refused.diagnostics}")
            return
    jobs = {
        **{key: _job(service, key, url, 0) for key, url in plan.to_fetch.items()},
        **{key: _job(service, key, url, 1) for key, url in plan.to_continue.items()},
    }
    token = (request_body.get("fhirAuthorization") or {}).get("access_token")
    with fetching.slot(server):  # a call that fetches holds its thread until its fetches end
        outcomes, calls = run_fetches(
            server, token, settings, jobs, fetching.deadline, fetching.budget, fetching.on_fhir_call
        )
    for key, outcome in outcomes.items():
        _collect(key, jobs[key], outcome, gathered)
    gathered.fhir_calls.extend(calls)


def _job(service: ServiceDefinition, key: str, url: str, pages_done: int) -> FetchJob:
    resource_type = resource_type_of(service.prefetch[key])
    return FetchJob(
        url,
        resource_type,
        service.label(key),
        pages_done=pages_done,
        required=key == PATIENT_KEY and not pages_done,
    )


def _collect(key: str, job: FetchJob, outcome: KeyOutcome, gathered: Gathered) -> None:
    """One key's fetch, as sources and notes (a continued prefetch keeps its source)."""
    continuing = job.pages_done > 0
    if not outcome.finished or outcome.failure is not None:
        if not continuing:
            gathered.sources[key] = "unavailable"
        if not outcome.finished:
            gathered.notes.append(f"{job.label} fetch did not finish before the deadline")
        else:
            gathered.notes.append(str(outcome.failure))
        return
    usable = [v for v in outcome.values if v.get("resourceType") != "OperationOutcome"]
    if not continuing:
        gathered.sources[key] = "fetched" if usable else "unavailable"
        if not usable and not outcome.notes:
            gathered.notes.append(f"{job.label} could not be had (the server sent an error)")
    gathered.resources.extend(usable)
    gathered.notes.extend(outcome.notes)
