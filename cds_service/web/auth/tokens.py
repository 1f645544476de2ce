"""CDS Hooks 2.0 client authentication: the signed JWT on every call.

The EHR signs a short-lived JWT and sends it as ``Authorization: Bearer <JWT>``. This module
accepts it only when all of these hold (each failure is a 401 with a reason, never the token):

- ``alg`` is ES384 or RS384 (``none``, HMAC and everything else refused);
- ``iss`` is on the configured allowlist (:mod:`cds_service.web.auth.jwks`), a ``jku``
  header (when sent) equals the JWKS URL configured for that issuer, and ``kid`` names a key
  in that JWKS;
- the signature verifies; ``aud`` is exactly the URL called (public base URL + path);
- ``exp`` is present, not past and at most 5 minutes ahead, ``iat`` present and not in the future
  (``auth_clock_skew_s``);
- ``jti`` is present and never seen before: the store's replay table is shared by all workers.

Auth is installed as a Flask ``before_request`` on the CDS Hooks paths (``/cds-services...``);
preflight ``OPTIONS`` is exempt, discovery per ``auth_on_discovery``.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import jwt
from flask import Flask, Response, json, request
from jwt import exceptions as jwt_errors

from cds_service.config import Settings
from cds_service.errors import operation_outcome
from cds_service.gather.urls import same_url
from cds_service.web.audit import current_audit
from cds_service.web.auth.jwks import KeyUnavailable, TrustedIssuer, load_trusted_issuers
from cds_service.web.auth.jwks import public_key_for as _public_key_for
from cds_service.web.auth.jwks_cache import JwksCache

ALLOWED_ALGORITHMS = ("ES384", "RS384")
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")
# CDS Hooks 2.0: a client's JWT expires at most 5 minutes after it is issued; a longer-lived one
# widens the replay window and the replay cache, so it is refused.
MAX_TOKEN_LIFETIME_S = 300
MAX_JTI_LENGTH = 1024
MAX_TOKEN_CHARS = 16_384
DISCOVERY_PATH = "/cds-services"
REALM = "jdm-cds"

log = logging.getLogger(__name__)


class ReplayCache(Protocol):
    def remember_jti(self, jti: str, expires_at: datetime, now: datetime) -> bool:
        """True when `jti` was not seen before (and is now remembered until `expires_at`)."""
        ...


class AuthFailure(Exception):
    """A request's token is missing or not acceptable. `reason` is safe to log and return."""

    def __init__(self, reason: str, *, token_present: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.token_present = token_present


@dataclass(frozen=True)
class VerifiedClient:
    issuer: str
    jti: str
    tenant: str | None


class TokenVerifier:
    """Checks one bearer JWT against the trusted issuers; see the module doc for the rules."""

    def __init__(
        self,
        issuers: Mapping[str, TrustedIssuer],
        jwks: JwksCache,
        replay_cache: ReplayCache,
        *,
        clock_skew_s: int,
    ) -> None:
        self._issuers = issuers
        self._jwks = jwks
        self._replay_cache = replay_cache
        self._skew_s = clock_skew_s

    def verify(self, authorization: str | None, audience: str, now: datetime) -> VerifiedClient:
        token = _bearer_token(authorization)
        header = _unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise AuthFailure("signing algorithm not accepted: use ES384 or RS384")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthFailure("kid header missing")
        trusted = self._trusted_issuer(token)
        jku = header.get("jku")
        if jku is not None and not _is_configured_jwks(jku, trusted):
            raise AuthFailure("jku does not match the JWKS URL configured for this issuer")
        try:
            key = _public_key_for(self._jwks.key(trusted, kid), algorithm)
        except KeyUnavailable as exc:
            raise AuthFailure(str(exc)) from exc
        claims = self._verified_claims(token, key, algorithm, trusted.issuer, audience)
        expires_at = self._check_times(claims, now)
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
            raise AuthFailure("jti claim must be a non-empty string")
        # only a correctly signed, current token reaches the shared replay table
        if not self._replay_cache.remember_jti(replay_key(trusted.issuer, jti), expires_at, now):
            raise AuthFailure("jti already used: token replayed")
        tenant = claims.get("tenant")
        return VerifiedClient(
            issuer=trusted.issuer, jti=jti, tenant=tenant if isinstance(tenant, str) else None
        )

    def _trusted_issuer(self, token: str) -> TrustedIssuer:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt_errors.PyJWTError as exc:
            raise AuthFailure("token payload is not a JSON object") from exc
        issuer = unverified.get("iss")
        if not isinstance(issuer, str):
            raise AuthFailure("iss claim missing")
        trusted = self._issuers.get(issuer)
        if trusted is None:
            raise AuthFailure("issuer not trusted")
        return trusted

    def _verified_claims(
        self, token: str, key: Any, algorithm: str, issuer: str, audience: str
    ) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=audience,
                issuer=issuer,
                # times are checked against the app's clock below, not PyJWT's
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt_errors.InvalidSignatureError as exc:
            raise AuthFailure("signature does not verify") from exc
        except jwt_errors.MissingRequiredClaimError as exc:
            raise AuthFailure(f"{exc.claim} claim missing") from exc
        except jwt_errors.InvalidAudienceError as exc:
            raise AuthFailure("aud does not match the service URL called") from exc
        except jwt_errors.InvalidIssuerError as exc:
            raise AuthFailure("iss claim invalid") from exc
        except jwt_errors.PyJWTError as exc:
            raise AuthFailure(f"token rejected ({type(exc).__name__})") from exc
        return claims

    def _check_times(self, claims: Mapping[str, Any], now: datetime) -> datetime:
        """Raise unless exp is ahead and iat/nbf are not ahead; return when exp falls."""
        now_s = now.timestamp()
        expires, issued = _seconds(claims, "exp"), _seconds(claims, "iat")
        not_before = _seconds(claims, "nbf") if "nbf" in claims else None
        if expires + self._skew_s <= now_s:
            raise AuthFailure("token expired")
        if expires - now_s > MAX_TOKEN_LIFETIME_S + self._skew_s:
            raise AuthFailure("token lives too long (exp more than 5 minutes ahead)")
        if issued - self._skew_s > now_s:
            raise AuthFailure("token issued in the future (iat)")
        if not_before is not None and not_before - self._skew_s > now_s:
            raise AuthFailure("token not valid yet (nbf)")
        # the jti is remembered until the token could no longer be accepted at all
        return datetime.fromtimestamp(expires + self._skew_s, tz=UTC)


def _seconds(claims: Mapping[str, Any], name: str) -> float:
    """A NumericDate claim as seconds: a finite JSON number, else AuthFailure (401).

    JSON parsers accept NaN and Infinity, and every comparison with NaN is false, so a NaN
    ``exp`` would never expire; an integer too large for a float cannot be compared at all.
    """
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AuthFailure(f"{name} claim must be a number")
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not math.isfinite(seconds):
        raise AuthFailure(f"{name} claim must be a finite number of seconds")
    return seconds


def _is_configured_jwks(jku: Any, trusted: TrustedIssuer) -> bool:
    """A ``jku`` names the issuer's configured JWKS: the same scheme, host, port (a missing port
    is the scheme's default) and path; anything else is refused, never fetched."""
    return isinstance(jku, str) and trusted.jwks_url is not None and same_url(jku, trusted.jwks_url)


def replay_key(issuer: str, jti: str) -> str:
    """The replay-table key: per issuer (one issuer cannot use up another's jti values),
    fixed length whatever the jti's length."""
    return hashlib.sha256(f"{issuer}\n{jti}".encode()).hexdigest()


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthFailure("bearer token missing", token_present=False)
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthFailure("Authorization header must be 'Bearer <JWT>'")
    if len(token) > MAX_TOKEN_CHARS:
        raise AuthFailure("token too long")
    return token


def _unverified_header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt_errors.PyJWTError as exc:
        raise AuthFailure("token is not a well-formed JWS compact serialization") from exc


# --- configuration and the Flask hook -------------------------------------------------------


class AuthConfigError(RuntimeError):
    """Auth is required but cannot work as configured; the message says how to fix it."""


def build_verifier(settings: Settings, replay_cache: ReplayCache) -> TokenVerifier:
    """The verifier for `settings`; AuthConfigError when no issuer can be trusted."""
    if not settings.auth_issuers_file:
        raise AuthConfigError(
            "CDS_AUTH_REQUIRED is on but no trusted issuer is configured: set "
            "CDS_AUTH_ISSUERS_FILE to a JSON file mapping each EHR's `iss` to its JWKS "
            "(see docs/security.md; cds_service/web/auth/trust/cds-hooks-sandbox.json trusts "
            "the CDS Hooks Sandbox), or set CDS_AUTH_REQUIRED=false for a local, loopback-only "
            "service."
        )
    try:
        issuers = load_trusted_issuers(Path(settings.auth_issuers_file))
    except ValueError as exc:
        raise AuthConfigError(f"CDS_AUTH_ISSUERS_FILE: {exc}") from exc
    if not issuers:
        raise AuthConfigError(
            f"CDS_AUTH_ISSUERS_FILE={settings.auth_issuers_file} trusts no issuer: add at least "
            'one entry (issuer -> {"jwks_url": ...} or {"jwks_file": ...}); see docs/security.md'
        )
    jwks = JwksCache(timeout_s=settings.auth_jwks_timeout_s, cache_s=settings.auth_jwks_cache_s)
    # fetched now, once (gunicorn loads the app before forking): workers start with the keys
    jwks.warm({i.jwks_url for i in issuers.values() if i.jwks_url and i.pinned_keys is None})
    return TokenVerifier(issuers, jwks, replay_cache, clock_skew_s=settings.auth_clock_skew_s)


def install_auth(
    app: Flask,
    settings: Settings,
    replay_cache: ReplayCache,
    clock: Callable[[], datetime],
) -> None:
    """Require a valid JWT on the CDS Hooks endpoints of `app` when settings ask for it."""
    if not settings.auth_required:
        log.warning(
            "AUTHENTICATION IS OFF: any client that can reach this service may call it. "
            "Acceptable only for a local service bound to loopback; set CDS_AUTH_REQUIRED=true "
            "and CDS_AUTH_ISSUERS_FILE for anything else."
        )
        return
    verifier = build_verifier(settings, replay_cache)
    base_url = settings.public_base_url.rstrip("/")

    def require_token() -> Response | None:
        if request.method == "OPTIONS" or not _is_protected(request.path, settings):
            return None
        audit = current_audit()
        try:
            client = verifier.verify(
                request.headers.get("Authorization"), base_url + request.path, clock()
            )
        except AuthFailure as failure:
            if audit is not None:
                audit.auth = "refused"
            log.warning("auth refused: %s", failure.reason)
            return unauthorized_response(failure)
        if audit is not None:
            audit.auth = f"ok ({client.issuer})"
        return None

    app.before_request(require_token)


def _is_protected(path: str, settings: Settings) -> bool:
    if path.rstrip("/") == DISCOVERY_PATH:
        return settings.auth_on_discovery
    return path.startswith(DISCOVERY_PATH + "/")


def unauthorized_response(failure: AuthFailure) -> Response:
    """401 with an OperationOutcome body and an RFC 6750 challenge."""
    challenge = f'Bearer realm="{REALM}"'
    if failure.token_present:
        challenge += f', error="invalid_token", error_description="{failure.reason}"'
    outcome = operation_outcome("login", f"authentication failed: {failure.reason}")
    return Response(
        json.dumps(outcome),
        status=401,
        mimetype="application/json",
        headers={"WWW-Authenticate": challenge},
    )
