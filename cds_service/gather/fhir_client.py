"""Outbound FHIR calls: allowlist, timeouts, one deadline, paging, size cap, bearer token.

The only module that talks to a FHIR server. Every failure becomes a :class:`FhirFetchError` whose
``reason`` is short and PHI-free (no URLs with patient ids, no response bodies), so it can go into
a gather note or a log line as is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests

from cds_service.config import Settings, SettingsError
from cds_service.errors import FhirServerNotAllowedError
from cds_service.gather import urls
from cds_service.gather.budget import BudgetSpent, FetchBudget
from cds_service.gather.deadline import Deadline
from cds_service.gather.http_body import BodyBroken, BodyDeadlinePassed, BodyTooLarge, read_body
from cds_service.gather.limits import json_depth, without_resources

FHIR_JSON_TYPES = ("application/fhir+json", "application/json")
# Same-server redirects are followed by hand, a few at most; others are refused (the bearer
# token must never reach another server).
MAX_REDIRECTS = 3
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class FhirFetchError(Exception):
    """A FHIR call failed; ``reason`` is safe to show and log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_server_allowed(server_url: str, settings: Settings) -> None:
    """Raise FhirServerNotAllowedError unless ``server_url`` is on the allowlist; no connection.

    An allowlist entry is ``scheme://host[:port][/path]``: without a port only the scheme's
    default port matches, ``:*`` matches any port (:mod:`cds_service.gather.urls`); the path is
    a prefix by whole segments. Plain http:// is only for ``fhir_http_hosts``.
    """
    parts = urls.server_url(server_url)
    if parts is None:
        raise FhirServerNotAllowedError("fhirServer is not a usable http(s) URL")
    if "?" in server_url or "#" in server_url:
        raise FhirServerNotAllowedError("fhirServer must be a base URL, without query or fragment")
    if parts.scheme == "http" and parts.host not in {h.lower() for h in settings.fhir_http_hosts}:
        raise FhirServerNotAllowedError("fhirServer uses plain http:// on a host that needs https")
    for entry in settings.fhir_server_allowlist:
        prefix = urls.allowlist_entry(entry)
        if prefix is not None and urls.within(parts, prefix):
            return
    raise FhirServerNotAllowedError(
        "fhirServer is not on this service's allowlist (CDS_FHIR_SERVER_ALLOWLIST)"
    )


def check_allowlist(entries: tuple[str, ...]) -> None:
    """Raise SettingsError naming an allowlist entry that cannot be used (checked at startup)."""
    for entry in entries:
        if "?" in entry or "#" in entry or urls.allowlist_entry(entry) is None:
            raise SettingsError(
                f"CDS_FHIR_SERVER_ALLOWLIST: {entry!r} is not an http(s) URL prefix "
                "scheme://host[:port|:*][/path]"
            )


@dataclass
class FhirCall:
    """One HTTP call made, for logs and tests (resource type only: URLs can hold patient ids)."""

    resource_type: str
    status: int | None
    duration_ms: float


@dataclass
class FhirClient:
    """Calls one FHIR server for one hook call. Thread-safe enough for the gather pool."""

    base_url: str
    settings: Settings
    deadline: Deadline
    session: requests.Session
    access_token: str | None = None
    # what the whole hook call may still fetch; None: only the per-response cap
    budget: FetchBudget | None = None
    calls: list[FhirCall] = field(default_factory=list)
    # told of each call as it ends (metrics, audit): the layer above decides what to record
    on_call: Callable[[FhirCall], None] | None = None

    def __post_init__(self) -> None:
        # No proxy variables, no ~/.netrc credentials: what is sent, and where, is decided here.
        self.session.trust_env = False

    def owns(self, absolute_url: str) -> bool:
        """True when ``absolute_url`` is on this FHIR server (so the token may go there): same
        scheme, host and port (a missing port is the scheme's default), under its path."""
        url, base = urls.server_url(absolute_url), urls.server_url(self.base_url)
        return url is not None and base is not None and urls.within(url, base)

    def get_json(
        self,
        absolute_url: str,
        resource_type: str,
        label: str | None = None,
        *,
        required: bool = False,
    ) -> dict[str, Any]:
        """GET one FHIR JSON value from this server; raise FhirFetchError on any failure.

        Calls are recorded under `resource_type`; reasons start with `label` (default: the
        resource type), which tells apart two searches of one type. A `required` read (the
        Patient) is counted against the call's byte budget but never stopped by it.
        """
        what = label or resource_type
        if not self.owns(absolute_url):
            raise FhirFetchError(f"{what}: link leads off the FHIR server; not followed")
        url = absolute_url
        for _ in range(MAX_REDIRECTS + 1):
            location, body = self._get_once(url, resource_type, what, required)
            if location is None:
                return _as_fhir_json(body, what, self.settings.max_json_depth)
            url = urljoin(url, location)
            if not self.owns(url):
                raise FhirFetchError(f"{what}: redirect leads off the FHIR server")
        raise FhirFetchError(f"{what}: more than {MAX_REDIRECTS} redirects")

    def _get_once(
        self, url: str, resource_type: str, what: str, required: bool
    ) -> tuple[str | None, bytes]:
        """One GET: (redirect target, b"") or (None, body)."""
        timeout = min(self.settings.fhir_timeout_s, self.deadline.remaining())
        if timeout <= 0:
            raise FhirFetchError(f"{what}: request deadline passed")
        started = time.monotonic()
        status: int | None = None
        location: str | None = None
        body = b""
        try:
            with self.session.get(
                url,
                headers=self._headers(),
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            ) as response:
                status = response.status_code
                if status in _REDIRECT_STATUSES and response.headers.get("Location"):
                    location = response.headers["Location"]
                else:
                    body = self._read_body(response, what, required)
        except requests.Timeout as exc:
            raise FhirFetchError(f"{what}: FHIR server timed out") from exc
        except requests.RequestException as exc:
            raise FhirFetchError(f"{what}: FHIR server unreachable") from exc
        finally:
            elapsed_ms = (time.monotonic() - started) * 1000
            call = FhirCall(resource_type, status, round(elapsed_ms, 1))
            self.calls.append(call)
            if self.on_call is not None:
                self.on_call(call)
        return location, body

    def _headers(self) -> Mapping[str, str]:
        headers = {"Accept": "application/fhir+json"}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        return headers

    def _read_body(self, response: requests.Response, what: str, required: bool) -> bytes:
        if response.status_code != 200:
            raise FhirFetchError(f"{what}: FHIR server answered {response.status_code}")
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type not in FHIR_JSON_TYPES:
            raise FhirFetchError(f"{what}: FHIR server sent {content_type or 'no type'}")
        cap = self.settings.fhir_max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FhirFetchError(f"{what}: FHIR response larger than {cap} bytes")
        budget = self.budget
        count = None if budget is None else lambda n: budget.take_bytes(n, required=required)
        try:
            return read_body(response, cap, self.deadline.expired, count)
        except BudgetSpent as spent:
            raise FhirFetchError(f"{what}: {spent.reason}") from spent
        except BodyTooLarge as exc:
            raise FhirFetchError(f"{what}: FHIR response larger than {cap} bytes") from exc
        except BodyDeadlinePassed as exc:
            raise FhirFetchError(f"{what}: request deadline passed") from exc
        except BodyBroken as exc:
            failure = "timed out" if exc.timed_out else "response broken off"
            raise FhirFetchError(f"{what}: FHIR server {failure}") from exc


def _as_fhir_json(body: bytes, what: str, max_depth: int) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FhirFetchError(f"{what}: FHIR server sent invalid JSON") from exc
    # the resources in it are held to the depth one by one when screened (gather.screening)
    if json_depth(without_resources(value), stop_above=max_depth) > max_depth:
        raise FhirFetchError(f"{what}: FHIR JSON nests deeper than {max_depth} levels")
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise FhirFetchError(f"{what}: FHIR server sent no FHIR resource")
    return value


def next_link(bundle: Mapping[str, Any]) -> str | None:
    """The ``next`` link of a searchset Bundle, if any."""
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) and url else None
    return None
