"""Keys of issuers configured by ``jwks_url``: fetched once, shared, refreshed early, and a
failing JWKS never holds up anyone else.

Tokens name their issuer before any signature is checked, so anyone can make the service look
up an issuer's keys, and that issuer's JWKS may hang. What keeps that from spreading:

- **one entry per URL, no lock held while fetching**: a hanging JWKS of one issuer never delays
  another issuer's calls;
- **single flight**: while a URL is being fetched, others needing it wait for that fetch
  (at most about ``timeout_s``) instead of fetching again; they wait only when there are no
  valid keys and the URL has not been failing; otherwise they answer at once;
- **failures cached with back-off**: after a failed fetch the URL is not tried again for 1 s,
  then 2, 4, ... up to 30 s; calls in between are refused at once with the last reason;
- **refresh before expiry**: keys are fetched again once 80 % of ``cache_s`` has passed, by one
  caller, while the others keep using the keys still valid; keys are never used past
  ``cache_s`` (a failing JWKS does not extend the trust in a key the issuer may have revoked);
- **an unknown kid** (key rotation) fetches again at most every 30 s, so made-up kids cannot
  turn the service into a flood of requests to the issuer;
- **warm start**: :meth:`JwksCache.warm` fetches every URL at startup (gunicorn loads the app
  once, before forking, so workers start with the keys, or with the failure, in hand).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cds_service.web.auth.jwks import Fetch, KeyUnavailable, TrustedIssuer, fetch_jwks, keys_by_kid

MIN_REFRESH_INTERVAL_S = 30.0
REFRESH_AT = 0.8  # of cache_s
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0

Keys = dict[str, Mapping[str, Any]]
log = logging.getLogger(__name__)


@dataclass
class _Entry:
    """What is known of one JWKS URL (read and written under the cache's lock only)."""

    keys: Keys | None = None
    fetched_at: float = -math.inf
    attempted_at: float = -math.inf
    failures: int = 0  # consecutive failed fetches
    failed_at: float = -math.inf
    last_error: str = ""
    in_flight: threading.Event | None = None

    def valid_keys(self, now: float, cache_s: float) -> Keys | None:
        return self.keys if now - self.fetched_at < cache_s else None

    def retry_at(self) -> float:
        if not self.failures:
            return -math.inf
        doublings = min(self.failures - 1, 16)  # 2.0 ** 1024 would overflow after days of failure
        backoff_s = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2.0**doublings)
        return self.failed_at + backoff_s


class JwksCache:
    """Keys of URL-configured issuers (pinned keys are read from the issuer entry itself)."""

    def __init__(
        self,
        *,
        timeout_s: float,
        cache_s: float,
        fetch: Fetch = fetch_jwks,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._timeout_s = timeout_s
        self._cache_s = cache_s
        self._fetch = fetch
        self._monotonic = monotonic
        self._lock = threading.Lock()  # guards _entries; never held while fetching
        self._entries: dict[str, _Entry] = {}

    def key(self, trusted: TrustedIssuer, kid: str) -> Mapping[str, Any]:
        """The JWK with `kid` for this issuer, or KeyUnavailable."""
        if trusted.pinned_keys is not None:
            return pick(trusted.pinned_keys, kid)
        if trusted.jwks_url is None:
            raise KeyUnavailable("issuer has no JWKS configured")
        return pick(self._keys(trusted.jwks_url, kid), kid)

    def warm(self, urls: Iterable[str]) -> None:
        """Fetch each URL once, all at once; a failure is remembered (and logged), not raised."""

        def fetch_one(url: str) -> None:
            try:
                self._keys(url, kid="")
            except KeyUnavailable as exc:
                log.warning("issuer JWKS not available at startup: %s", exc)

        threads = [threading.Thread(target=fetch_one, args=(url,), daemon=True) for url in urls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=2 * self._timeout_s + 1)

    def _keys(self, url: str, kid: str) -> Keys:
        waited = False
        while True:
            with self._lock:
                entry = self._entries.setdefault(url, _Entry())
                now = self._monotonic()
                valid = entry.valid_keys(now, self._cache_s)
                if valid is not None and not self._wants_fetch(entry, kid, now):
                    return valid
                if entry.in_flight is None and now >= entry.retry_at():
                    entry.in_flight, entry.attempted_at = threading.Event(), now
                    mine: threading.Event | None = entry.in_flight
                else:
                    mine = None
                    if valid is not None:  # being refreshed, or backing off: still valid
                        return valid
                    if entry.in_flight is None or entry.failures or waited:
                        raise KeyUnavailable(self._unavailable(entry, now))
                    theirs = entry.in_flight
            if mine is not None:
                return self._fetch_into(url, entry, mine, valid)
            # a first fetch of a URL not known to fail: share it (its own time limit ends it)
            theirs.wait(timeout=2 * self._timeout_s + 1)
            waited = True

    def _wants_fetch(self, entry: _Entry, kid: str, now: float) -> bool:
        if now - entry.fetched_at >= REFRESH_AT * self._cache_s:
            return True
        keys = entry.keys or {}
        return kid not in keys and now - entry.attempted_at >= MIN_REFRESH_INTERVAL_S

    def _fetch_into(
        self, url: str, entry: _Entry, done: threading.Event, valid: Keys | None
    ) -> Keys:
        keys: Keys | None = None
        error = "issuer JWKS could not be fetched"
        try:
            keys = keys_by_kid(self._fetch(url, self._timeout_s))
        except KeyUnavailable as exc:
            error = str(exc)
        finally:
            with self._lock:
                now = self._monotonic()
                if keys is not None:
                    entry.keys, entry.fetched_at, entry.failures = keys, now, 0
                else:
                    entry.failures, entry.failed_at, entry.last_error = (
                        entry.failures + 1,
                        now,
                        error,
                    )
                entry.in_flight = None
            done.set()
        if keys is not None:
            return keys
        if valid is not None:
            return valid  # a failed refresh keeps the keys still within their cache time
        raise KeyUnavailable(error)

    def _unavailable(self, entry: _Entry, now: float) -> str:
        reason = entry.last_error or "issuer JWKS could not be fetched"
        if entry.in_flight is not None:
            if not entry.failures:
                return "issuer JWKS is still being fetched; try again"
            return f"{reason} (being fetched again)"
        wait_s = max(0.0, entry.retry_at() - now)
        return f"{reason} (tried again in {math.ceil(wait_s)} s at the earliest)"


def pick(keys: Mapping[str, Mapping[str, Any]], kid: str) -> Mapping[str, Any]:
    jwk = keys.get(kid)
    if jwk is None:
        raise KeyUnavailable("kid is not in the issuer's JWKS")
    return jwk
