"""Settings: read once from environment variables that start with ``CDS_``.

Each field of :class:`Settings` is one setting. Its environment variable is ``CDS_`` plus the field
name in upper case (``public_base_url`` -> ``CDS_PUBLIC_BASE_URL``). The README's settings table is
checked against this class by a test, so a new field must be documented there too.

Clinical numbers (doses, thresholds, caps) are NOT settings here: they live as data under
``cards/`` with their sources, where a pharmacy and therapeutics committee can review them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "CDS_"
REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


def _setting(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


def _list_setting(default: tuple[str, ...], doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    """All settings of the service, with their defaults (the embedded, local defaults)."""

    # --- serving ---
    host: str = _setting("127.0.0.1", "Address the server binds to.")
    port: int = _setting(8080, "TCP port the server listens on.")
    public_base_url: str = _setting(
        "http://127.0.0.1:8080",
        "The service's public URL as clients see it (behind a proxy, the proxy's URL). "
        "Used for order-set links and the JWT `aud` check.",
    )
    workers: int = _setting(0, "gunicorn worker processes; 0 means 2 x cores + 1, at most 5.")
    threads: int = _setting(4, "Threads per gunicorn worker.")
    log_level: str = _setting("INFO", "Log level: DEBUG, INFO, WARNING, ERROR.")
    worker_max_requests: int = _setting(
        2_000,
        "A gunicorn worker is replaced after this many requests, plus a random 0 to "
        "CDS_WORKER_MAX_REQUESTS_JITTER (so workers do not restart together); 0: never.",
    )
    worker_max_requests_jitter: int = _setting(
        200, "Random extra requests before a worker is replaced (see CDS_WORKER_MAX_REQUESTS)."
    )
    worker_max_rss_mb: int = _setting(
        300,
        "A worker whose resident memory is above this many MiB after a request finishes the "
        "requests it holds and is replaced by a fresh one; 0: no ceiling.",
    )

    # --- storage ---
    database_url: str = _setting(
        "sqlite:///var/jdm-cds.sqlite3",
        "SQLAlchemy URL of the shared store (feedback, JWT replay cache). A relative SQLite "
        "path is relative to the working directory. PostgreSQL: postgresql+psycopg://...",
    )
    retention_days: int = _setting(
        365,
        "Days the store keeps issued cards (uuid, topic, the choices offered) and feedback; "
        "older rows are deleted, checked at most hourly by each process. 0 keeps them forever.",
    )
    knowledge_dir: str = _setting(
        str(REPO_ROOT / "cards"), "Folder holding the clinical knowledge (cards/)."
    )

    # --- request limits ---
    max_body_bytes: int = _setting(33_554_432, "Largest request body accepted (413 above).")
    max_body_json_containers: int = _setting(
        1_000_000,
        "Most JSON objects and arrays in one request body, counted on its bytes before it is "
        "parsed (every { and [, also those inside strings: an upper bound); 413 above. Parsing "
        "costs memory by the object, not by the byte.",
    )
    max_prefetch_resources: int = _setting(
        20_000, "Most FHIR resources taken from one request's prefetch and fetches."
    )
    max_json_depth: int = _setting(
        64, "Deepest JSON nesting accepted in a request body or a FHIR server's response."
    )
    request_deadline_s: float = _setting(
        8.0,
        "Deadline for the whole of one hook call: reading the body, gathering (all FHIR fetches "
        "together), reading the record and evaluating it. Past it the call answers 503 "
        "(`timeout`).",
    )
    evaluate_reserve_s: float = _setting(
        1.5,
        "Part of CDS_REQUEST_DEADLINE_S kept for reading and evaluating what was gathered: FHIR "
        "fetches stop this long before the deadline (at half the deadline when that is later).",
    )
    max_resource_array_items: int = _setting(
        1_000,
        "Most items in one JSON array inside a FHIR resource (a Bundle's entries are counted by "
        "CDS_MAX_PREFETCH_RESOURCES instead). Checked before the resource is read.",
    )
    max_resource_string_chars: int = _setting(
        1_048_576, "Longest JSON string (or object key) in a FHIR resource, in characters."
    )
    max_resource_nodes: int = _setting(
        10_000,
        "Most JSON objects and arrays in one FHIR resource (what its validation costs grows "
        "with them).",
    )

    # --- outbound FHIR calls ---
    fhir_timeout_s: float = _setting(4.0, "Timeout of one FHIR HTTP call (connect and read).")
    fhir_max_pages: int = _setting(20, "Most Bundle pages followed per prefetch key.")
    fhir_page_size: int = _setting(
        1_000,
        "`_count` asked for in prefetch templates and fetches (a server may answer with fewer; "
        "the next links are followed). A chart's Observations come in a few pages, not dozens: "
        "a server runs the whole search again for each page.",
    )
    fhir_max_concurrency: int = _setting(
        10,
        "Most FHIR calls in flight for one hook call (the service has 10 prefetch keys, so all go "
        "at once).",
    )
    fhir_max_calls_per_server: int = _setting(
        2,
        "Most hook calls of one worker process fetching from one FHIR server at once; one more "
        "is answered 412 at once. Keep it below CDS_THREADS, so a slow FHIR server can never "
        "hold every thread.",
    )
    fhir_max_response_bytes: int = _setting(
        16_777_216, "Largest FHIR response body accepted from a FHIR server."
    )
    fhir_max_fetch_bytes: int = _setting(
        33_554_432,
        "Most bytes fetched from the FHIR server for one hook call, every page of every search "
        "together, counted as they arrive; searches stop there (the Patient read is always "
        "finished).",
    )
    fhir_server_allowlist: tuple[str, ...] = _list_setting(
        ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"),
        "Comma-separated URL prefixes (scheme://host[:port][/path]) of FHIR servers the service "
        "may call; no port means the scheme's default port (80, 443), `:*` any port. Others are "
        "refused with 412 and never contacted.",
    )
    fhir_http_hosts: tuple[str, ...] = _list_setting(
        ("127.0.0.1", "localhost", "::1"),
        "Comma-separated hosts that may be called over plain http:// (others need https://).",
    )

    # --- browsers and scrapers ---
    cors_origins: tuple[str, ...] = _list_setting(
        (
            "http://127.0.0.1:*",
            "http://localhost:*",
            "http://[::1]:*",
            "https://127.0.0.1:*",
            "https://localhost:*",
            "https://[::1]:*",
            "https://sandbox.cds-hooks.org",
        ),
        "With auth off: comma-separated browser origins (scheme://host[:port]) that may call the "
        "service (CORS); no port means the scheme's default, `:*` any port, `*` every origin. A "
        "request from another origin is refused (403) and gets no CORS headers. With auth on "
        "every origin may call: the token decides.",
    )
    metrics_access: str = _setting(
        "loopback",
        "Who may read /metrics: `loopback` (a client on 127.0.0.1 or ::1 whose request came "
        "through no proxy, i.e. without X-Forwarded-For or Forwarded), `any`, or `off` (404).",
    )

    # --- authentication (CDS Hooks JWT) ---
    auth_required: bool = _setting(
        False,
        "Require a CDS Hooks JWT on every call. `make run` leaves it off (local, loopback); "
        "`jdm-cds serve` and docker compose turn it on.",
    )
    auth_on_discovery: bool = _setting(True, "Require the JWT on discovery too, when auth is on.")
    auth_issuers_file: str = _setting(
        "", "JSON file mapping each trusted issuer (`iss`) to its JWKS (a file path or a URL)."
    )
    auth_clock_skew_s: int = _setting(60, "Allowed clock skew for `exp`/`iat`, in seconds.")
    auth_jwks_timeout_s: float = _setting(3.0, "Timeout when fetching an issuer's JWKS URL.")
    auth_jwks_cache_s: int = _setting(300, "How long a fetched JWKS is cached, in seconds.")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Build from a mapping of field names (not env names) to values, converting strings."""
        kwargs: dict[str, Any] = {}
        known = {f.name: f for f in dataclasses.fields(cls)}
        for name, raw in values.items():
            if name not in known:
                raise SettingsError(f"unknown setting {name!r}")
            kwargs[name] = _convert(known[name], raw)
        return cls(**kwargs)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build from environment variables named ``CDS_<FIELD>``; unknown CDS_ names are errors."""
        values: dict[str, Any] = {}
        names = {env_name(f.name): f.name for f in dataclasses.fields(cls)}
        for key, raw in environ.items():
            if not key.startswith(ENV_PREFIX):
                continue
            if key not in names:
                raise SettingsError(f"unknown setting {key}; see the README's settings table")
            values[names[key]] = raw
        return cls.from_mapping(values)


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


def _convert(setting: dataclasses.Field[Any], raw: Any) -> Any:
    default = setting.default
    name = env_name(setting.name)
    if not isinstance(raw, str):
        return tuple(raw) if isinstance(default, tuple) else raw
    text = raw.strip()
    try:
        if isinstance(default, bool):
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, tuple):
            return tuple(part.strip() for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a valid {type(default).__name__}") from exc
    return text


def settings_table() -> list[tuple[str, str, str]]:
    """(env name, default, description) rows, for the README and `jdm-cds settings`."""
    rows = []
    for setting in dataclasses.fields(Settings):
        default = setting.default
        shown = ",".join(default) if isinstance(default, tuple) else str(default)
        if setting.name == "knowledge_dir":
            shown = "<repo>/cards"
        rows.append((env_name(setting.name), shown, setting.metadata["doc"]))
    return rows
