"""Trusted CDS Hooks clients: the issuer allowlist and each issuer's signing keys (JWKS).

The allowlist is a JSON file (``CDS_AUTH_ISSUERS_FILE``) mapping each trusted issuer (the
JWT ``iss``) to where its public keys live::

    {
      "https://ehr.example.org": {"jwks_url": "https://ehr.example.org/.well-known/jwks.json"},
      "https://other-ehr.example.org": {"jwks_file": "other-ehr.jwks.json"}
    }

``jwks_file`` (relative to the issuers file) pins the keys: no network call is made. ``jwks_url``
is fetched with a timeout, at most a small body, no redirects, and cached
(:mod:`cds_service.web.auth.jwks_cache`); when an entry has
both, the pinned file supplies the keys and the URL is only the one ``jku`` the issuer may name.
An optional ``description`` says who the issuer is. A JWKS URL must be ``https://`` except on
loopback (for local tests). Keys are never fetched from a URL a token names.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from jwt import PyJWK
from jwt.exceptions import InvalidKeyError, PyJWKError

from cds_service.gather.http_body import BodyBroken, BodyDeadlinePassed, BodyTooLarge, read_body

# A JWKS is a few keys; anything larger is not one.
MAX_JWKS_BYTES = 256 * 1024
ENTRY_KEYS = frozenset({"jwks_url", "jwks_file", "description"})


class TrustConfigError(ValueError):
    """The issuers file cannot be used; the message says what to fix."""


class KeyUnavailable(Exception):
    """No usable key for a token; the message is safe to log and to send back."""


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    jwks_url: str | None
    # keys pinned from a jwks_file: kid -> JWK object
    pinned_keys: Mapping[str, Mapping[str, Any]] | None


def load_trusted_issuers(path: Path) -> dict[str, TrustedIssuer]:
    """Read and check an issuers file; raise TrustConfigError with a fix-it message."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TrustConfigError(f"cannot read issuers file {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise TrustConfigError(f"issuers file {path} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise TrustConfigError(f"issuers file {path} must hold a JSON object: issuer -> entry")
    return {issuer: _issuer_entry(issuer, entry, path.parent) for issuer, entry in document.items()}


def _issuer_entry(issuer: str, entry: Any, base_dir: Path) -> TrustedIssuer:
    where = f"issuer {issuer!r}"
    if not isinstance(entry, dict) or not entry.keys() <= ENTRY_KEYS:
        raise TrustConfigError(f"{where}: entry must be an object with keys {sorted(ENTRY_KEYS)}")
    jwks_url, jwks_file = entry.get("jwks_url"), entry.get("jwks_file")
    if jwks_url is None and jwks_file is None:
        raise TrustConfigError(f"{where}: give jwks_url or jwks_file")
    if jwks_url is not None:
        _check_jwks_url(where, jwks_url)
    pinned = None
    if jwks_file is not None:
        if not isinstance(jwks_file, str):
            raise TrustConfigError(f"{where}: jwks_file must be a path")
        pinned = _read_jwks_file(where, base_dir / jwks_file)
    return TrustedIssuer(issuer=issuer, jwks_url=jwks_url, pinned_keys=pinned)


def _check_jwks_url(where: str, url: Any) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or not parts.hostname or parts.scheme not in ("https", "http"):
        raise TrustConfigError(f"{where}: jwks_url must be an absolute https:// URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise TrustConfigError(f"{where}: jwks_url must use https:// (http only on loopback)")


def _read_jwks_file(where: str, path: Path) -> dict[str, Mapping[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrustConfigError(f"{where}: cannot read JWKS file {path}: {exc}") from exc
    try:
        return keys_by_kid(document)
    except KeyUnavailable as exc:
        raise TrustConfigError(f"{where}: JWKS file {path}: {exc}") from exc


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def keys_by_kid(document: Any) -> dict[str, Mapping[str, Any]]:
    """A JWKS document -> {kid: JWK}; keys without a kid cannot be selected and are skipped."""
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise KeyUnavailable("JWKS has no 'keys' list")
    return {
        key["kid"]: key for key in keys if isinstance(key, dict) and isinstance(key.get("kid"), str)
    }


def public_key_for(jwk: Mapping[str, Any], algorithm: str) -> Any:
    """The verification key of a JWK for `algorithm`, refusing keys meant for something else."""
    if jwk.get("use", "sig") != "sig":
        raise KeyUnavailable("the key with this kid is not a signing key")
    if jwk.get("alg", algorithm) != algorithm:
        raise KeyUnavailable("the key with this kid is for another algorithm")
    if any(name in jwk for name in ("d", "p", "q", "k")):
        # a private or symmetric key published by mistake is not a trust anchor
        raise KeyUnavailable("the key with this kid is not a public key")
    try:
        return PyJWK(dict(jwk), algorithm=algorithm).key
    except (PyJWKError, InvalidKeyError) as exc:
        raise KeyUnavailable("the key with this kid does not fit the token's algorithm") from exc


Fetch = Callable[[str, float], Any]


def fetch_jwks(url: str, timeout_s: float) -> Any:
    """GET a JWKS: no redirects, capped size, `timeout_s` in all, JSON only. Raises
    KeyUnavailable."""
    give_up_at = time.monotonic() + timeout_s
    try:
        with requests.Session() as session:
            session.trust_env = False  # no proxy variables or ~/.netrc decide where this goes
            response = session.get(
                url,
                timeout=timeout_s,
                allow_redirects=False,
                stream=True,
                headers={"Accept": "application/json"},
            )
            if response.status_code != 200:
                raise KeyUnavailable(f"issuer JWKS answered HTTP {response.status_code}")
            body = read_body(response, MAX_JWKS_BYTES, lambda: time.monotonic() > give_up_at)
    except BodyTooLarge as exc:
        raise KeyUnavailable("issuer JWKS is too large") from exc
    except BodyDeadlinePassed as exc:
        raise KeyUnavailable(f"issuer JWKS took longer than {timeout_s} s") from exc
    except (requests.RequestException, BodyBroken) as exc:
        raise KeyUnavailable(f"issuer JWKS could not be fetched ({type(exc).__name__})") from exc
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise KeyUnavailable("issuer JWKS is not JSON") from exc
