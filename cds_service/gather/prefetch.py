"""The prefetch ladder: use what the client sent, else fetch it from ``fhirServer``, else 412.

For each prefetch key of the service:

- sent with a value -> used as is (a searchset with a ``next`` link gets its remaining pages
  fetched from ``fhirServer`` when one is given, else a gather note says it was cut short);
- sent as ``null`` -> the client has no data: not refetched;
- sent as an ``OperationOutcome`` -> "could not be had": noted, not refetched;
- not sent -> fetched from ``fhirServer`` (with the ``fhirAuthorization`` bearer token), all such
  keys concurrently, following ``next`` links up to ``fhir_max_pages``, within one budget of
  resources and bytes for the call (:mod:`cds_service.gather.fetching`).

Every resource, sent or fetched, is screened against the per-resource limits
(:mod:`cds_service.gather.screening`) before anything reads it: one over a limit is left out with
a note naming the limit; a prefetched Patient over a limit is a 413, a fetched one a 412.

Without the Patient there is nothing to decide on: :class:`DataUnavailableError` (412). Other keys
that cannot be had become gather notes ("MedicationRequest search cut short after 20 pages"):
short, PHI-free, starting with the FHIR resource type, for the data-quality card.

Nothing here parses resources: the history's parser does that, once, for prefetched and fetched
values alike, and checks every resource's subject and code itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from cds_service.config import Settings
from cds_service.errors import BodyTooLargeError, DataUnavailableError, SchemaViolationError
from cds_service.gather.budget import FetchBudget
from cds_service.gather.deadline import CallDeadline, Deadline
from cds_service.gather.fetching import FetchJob, KeyOutcome, run_fetches
from cds_service.gather.fhir_client import FhirCall, check_server_allowed, next_link
from cds_service.gather.limits import ResourceLimits, count_resources
from cds_service.gather.registry import PATIENT_KEY, ServiceDefinition
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
    deadline: CallDeadline | None = None,
) -> Gathered:
    """Run the ladder for one validated hook request (see the module docstring).

    ``on_fhir_call`` is told of each FHIR call as it ends (the web layer counts and audits them).
    ``deadline`` is the whole call's (a new one of ``request_deadline_s`` when not given): fetches
    end ``evaluate_reserve_s`` before it.
    """
    deadline = deadline or CallDeadline(settings.request_deadline_s)
    gathered = Gathered()
    prefetch: Mapping[str, Any] = request_body.get("prefetch") or {}
    context: Mapping[str, Any] = request_body["context"]
    limits = ResourceLimits.of(settings)
    jobs: dict[str, FetchJob] = {}

    for key, template in service.prefetch.items():
        resource_type = resource_type_of(template)
        if key in prefetch:
            link = _take_prefetched(key, resource_type, prefetch[key], context, gathered, limits)
            if link is not None:
                jobs[key] = FetchJob(link, resource_type, pages_done=1)
            continue
        relative_url = fill_template(template, context)
        if relative_url is None:
            gathered.sources[key] = "unavailable"
            gathered.notes.append(f"{resource_type} not sent and its query cannot be filled")
        else:
            jobs[key] = FetchJob(relative_url, resource_type, required=key == PATIENT_KEY)

    if jobs:
        budget = FetchBudget.for_call(settings, count_resources(prefetch.values()))
        fetch_deadline = deadline.for_fetching(settings.evaluate_reserve_s)
        _fetch_missing(request_body, settings, jobs, gathered, on_fhir_call, fetch_deadline, budget)
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
    limits: ResourceLimits,
) -> str | None:
    """Use what the client sent for `key`; the ``next`` link of a searchset to go on with."""
    if value is None:
        gathered.sources[key] = "null"
        return None
    sent_type = value.get("resourceType")
    if sent_type == "OperationOutcome":
        gathered.sources[key] = "unavailable"
        gathered.notes.append(f"{resource_type} could not be had (the client sent an error)")
        return None
    if key == PATIENT_KEY:
        _check_patient(value, context)
    screened = screen(value, limits)
    if screened.left_out:
        if key == PATIENT_KEY:  # nothing can be decided without it: the client must send less
            raise BodyTooLargeError(f"prefetch.patient: the Patient's {screened.reason}")
        gathered.notes.append(left_out_note(resource_type, screened))
    if screened.value is None:
        gathered.sources[key] = "unavailable"
        return None
    gathered.sources[key] = "prefetch"
    gathered.resources.append(screened.value)
    return next_link(value) if sent_type == "Bundle" else None


def _check_patient(value: Mapping[str, Any], context: Mapping[str, Any]) -> None:
    # A Patient of another id is a client error, not missing data: answering would mean
    # deciding on one child's record under another child's name.
    if value.get("resourceType") != "Patient":
        raise SchemaViolationError("prefetch.patient: must be a Patient resource")
    if value.get("id") != context.get("patientId"):
        raise SchemaViolationError("prefetch.patient: id does not match context.patientId")


def _fetch_missing(
    request_body: Mapping[str, Any],
    settings: Settings,
    jobs: Mapping[str, FetchJob],
    gathered: Gathered,
    on_fhir_call: Callable[[FhirCall], None] | None,
    deadline: Deadline,
    budget: FetchBudget,
) -> None:
    server = request_body.get("fhirServer")
    if not isinstance(server, str):
        for key, job in jobs.items():
            if job.pages_done:
                gathered.notes.append(
                    f"{job.resource_type} prefetch was cut short (more pages, no server)"
                )
            else:
                gathered.sources[key] = "unavailable"
                gathered.notes.append(
                    f"{job.resource_type} not sent in prefetch and no fhirServer given"
                )
        return
    if PATIENT_KEY in jobs and not jobs[PATIENT_KEY].pages_done:
        check_server_allowed(server, settings)  # 412 before any connection
    else:
        try:
            check_server_allowed(server, settings)
        except DataUnavailableError as refused:
            for key, job in jobs.items():
                gathered.sources.setdefault(key, "unavailable")
                gathered.notes.append(f"{job.resource_type} not fetched: {refused.diagnostics}")
            return
    token = (request_body.get("fhirAuthorization") or {}).get("access_token")
    outcomes, calls = run_fetches(server, token, settings, jobs, deadline, budget, on_fhir_call)
    for key, outcome in outcomes.items():
        _collect(key, jobs[key], outcome, gathered)
    gathered.fhir_calls.extend(calls)


def _collect(key: str, job: FetchJob, outcome: KeyOutcome, gathered: Gathered) -> None:
    continuing = job.pages_done > 0
    if not outcome.finished:
        if not continuing:
            gathered.sources[key] = "unavailable"
        gathered.notes.append(f"{job.resource_type} fetch did not finish before the deadline")
        return
    if outcome.failure is not None:
        if not continuing:
            gathered.sources[key] = "unavailable"
        gathered.notes.append(outcome.failure)
        return
    usable = [v for v in outcome.values if v.get("resourceType") != "OperationOutcome"]
    if not continuing:
        gathered.sources[key] = "fetched" if usable else "unavailable"
        if not usable and not outcome.notes:
            gathered.notes.append(
                f"{job.resource_type} could not be had (the server sent an error)"
            )
    gathered.resources.extend(usable)
    gathered.notes.extend(outcome.notes)
