"""Which server a URL names: scheme, host and port, where no port means the scheme's default.

Every same-server decision (the FHIR-server allowlist, ``next`` links, redirects, a token's
``jku``, the per-server call limit, CORS origins) goes through here, so
``https://ehr.example.org/fhir`` and ``https://ehr.example.org:443/fhir`` are one server and
``https://ehr.example.org:8443/fhir`` is another. Only an allowlist entry may match any port,
and only when it says so with ``:*``::

    >>> server_url("http://localhost/fhir").port
    80
    >>> within(server_url("http://localhost:8433/fhir/x"), server_url("http://localhost/fhir"))
    False
    >>> within(server_url("http://localhost:8433/fhir/x"), allowlist_entry("http://localhost:*"))
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
ANY_PORT = ":*"


@dataclass(frozen=True)
class ServerUrl:
    """A parsed http(s) URL; ``port`` is None only for an allowlist entry naming any port."""

    scheme: str
    host: str
    port: int | None
    path: str

    @property
    def origin(self) -> tuple[str, str, int | None]:
        return (self.scheme, self.host, self.port)


def server_url(url: str) -> ServerUrl | None:
    """Parse an absolute http(s) URL (no user-info, no dot segments); the port made explicit."""
    parts = _split(url)
    if parts is None:
        return None
    scheme, host, port, path = parts
    return ServerUrl(scheme, host, port if port is not None else DEFAULT_PORTS[scheme], path)


def allowlist_entry(entry: str) -> ServerUrl | None:
    """Parse ``scheme://host[:port|:*][/path]``: no port is the default port, ``:*`` any."""
    any_port = False
    scheme, _, rest = entry.partition("://")
    netloc, slash, path = rest.partition("/")
    if netloc.endswith(ANY_PORT):
        any_port = True
        entry = f"{scheme}://{netloc.removesuffix(ANY_PORT)}{slash}{path}"
    parsed = server_url(entry)
    if parsed is None or (any_port and urlsplit(entry).port is not None):
        return None
    if any_port:
        return ServerUrl(parsed.scheme, parsed.host, None, parsed.path)
    return parsed


def within(url: ServerUrl, prefix: ServerUrl) -> bool:
    """True when ``url`` is on ``prefix``'s server and under its path (by whole segments)."""
    if (url.scheme, url.host) != (prefix.scheme, prefix.host):
        return False
    if prefix.port is not None and url.port != prefix.port:
        return False
    return url.path == prefix.path or url.path.startswith(prefix.path + "/")


def same_url(first: str, second: str) -> bool:
    """The same resource on the same server (default ports made explicit; query compared as is)."""
    a, b = server_url(first.split("?")[0]), server_url(second.split("?")[0])
    if a is None or b is None:
        return False
    return a == b and first.partition("?")[2] == second.partition("?")[2]


def _split(url: str) -> tuple[str, str, int | None, str] | None:
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError:
        return None
    if split.scheme not in DEFAULT_PORTS or not split.hostname or split.username is not None:
        return None
    # "/fhir/../admin" starts with "/fhir/" but is not under it once the server resolves it
    if "\\" in split.path or {".", ".."} & set(unquote(split.path).split("/")):
        return None
    return split.scheme, split.hostname.lower(), port, split.path.rstrip("/")
