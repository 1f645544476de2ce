"""Trusted issuers and their keys: the issuers file, pinned JWKS files, JWKS URLs over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from jwt_helpers import ec_key, jwks_document, jwks_server, rsa_key, write_issuers_file

from cds_service.web.auth import jwks
from cds_service.web.auth.jwks import KeyUnavailable, TrustConfigError, load_trusted_issuers
from cds_service.web.auth.jwks_cache import JwksCache

SANDBOX_FILE = Path(jwks.__file__).parent / "trust" / "cds-hooks-sandbox.json"


class FakeMonotonic:
    """A hand-moved monotonic clock (time, not the network, is what this replaces)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_shipped_sandbox_entry_pins_its_es384_key_and_names_its_jwks_url() -> None:
    issuers = load_trusted_issuers(SANDBOX_FILE)
    sandbox = issuers["https://sandbox.cds-hooks.org"]
    assert sandbox.jwks_url == "https://sandbox.cds-hooks.org/.well-known/jwks.json"
    assert sandbox.pinned_keys is not None
    (kid,) = sandbox.pinned_keys
    key = jwks.public_key_for(sandbox.pinned_keys[kid], "ES384")
    assert key.curve.name == "secp384r1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", "must hold a JSON object"),
        ('{"https://a.example": {}}', "give jwks_url or jwks_file"),
        ('{"https://a.example": {"jwks_url": "ftp://a.example/k"}}', "absolute https://"),
        ('{"https://a.example": {"jwks_url": "http://a.example/k"}}', "http only on loopback"),
        ('{"https://a.example": {"jwks_file": "missing.json"}}', "cannot read JWKS file"),
        ('{"https://a.example": {"jwks_url": "https://a.example/k", "x": 1}}', "entry must be"),
    ],
)
def test_bad_issuers_files_are_refused_with_a_reason(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "issuers.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TrustConfigError, match=message):
        load_trusted_issuers(path)


def test_jwks_file_is_relative_to_the_issuers_file(tmp_path: Path) -> None:
    key = ec_key("pinned")
    (tmp_path / "ehr.jwks.json").write_text(json.dumps(jwks_document(key)), encoding="utf-8")
    path = write_issuers_file(tmp_path, {"https://ehr.example": {"jwks_file": "ehr.jwks.json"}})
    trusted = load_trusted_issuers(path)["https://ehr.example"]
    cache = JwksCache(timeout_s=1, cache_s=60)
    assert cache.key(trusted, "pinned")["kid"] == "pinned"
    with pytest.raises(KeyUnavailable, match="kid is not in"):
        cache.key(trusted, "other")


def _url_issuer(
    tmp_path: Path, url: str, issuer: str = "https://ehr.example"
) -> jwks.TrustedIssuer:
    path = write_issuers_file(tmp_path, {issuer: {"jwks_url": url}})
    return load_trusted_issuers(path)[issuer]


def test_jwks_url_is_fetched_once_and_cached(tmp_path: Path) -> None:
    key = ec_key()
    clock = FakeMonotonic()
    with jwks_server(jwks_document(key)) as server:
        trusted = _url_issuer(tmp_path, server.url)
        cache = JwksCache(timeout_s=2, cache_s=300, monotonic=clock)
        for _ in range(5):
            assert cache.key(trusted, key.kid)["kid"] == key.kid
        assert len(server.hits) == 1
        clock.now += 301  # past the cache lifetime: fetched again
        cache.key(trusted, key.kid)
        assert len(server.hits) == 2


def test_unknown_kid_refetches_at_most_every_30_seconds(tmp_path: Path) -> None:
    old_key, new_key = ec_key("old"), rsa_key("rotated-in")
    clock = FakeMonotonic()
    with jwks_server(jwks_document(old_key)) as server:
        trusted = _url_issuer(tmp_path, server.url)
        cache = JwksCache(timeout_s=2, cache_s=300, monotonic=clock)
        cache.key(trusted, "old")
        server.document = jwks_document(old_key, new_key)  # the issuer rotates keys
        for _ in range(3):
            with pytest.raises(KeyUnavailable):
                cache.key(trusted, "rotated-in")  # made-up kids cannot force fetches
        assert len(server.hits) == 1
        clock.now += 31
        assert cache.key(trusted, "rotated-in")["kty"] == "RSA"
        assert len(server.hits) == 2


def test_jwks_redirect_is_not_followed(tmp_path: Path) -> None:
    key = ec_key()
    with jwks_server(jwks_document(key)) as target, jwks_server({"keys": []}) as server:
        server.redirect_to = target.url
        cache = JwksCache(timeout_s=2, cache_s=300)
        with pytest.raises(KeyUnavailable, match="HTTP 302"):
            cache.key(_url_issuer(tmp_path, server.url), key.kid)
        assert target.hits == []


def test_oversized_or_non_json_jwks_is_refused(tmp_path: Path) -> None:
    with jwks_server({"keys": []}) as server:
        trusted = _url_issuer(tmp_path, server.url)
        server.body_override = b"[" + b" " * (jwks.MAX_JWKS_BYTES + 10) + b"]"
        with pytest.raises(KeyUnavailable, match="too large"):
            JwksCache(timeout_s=2, cache_s=300).key(trusted, "k")
        server.body_override = b"<html>login</html>"
        with pytest.raises(KeyUnavailable, match="not JSON"):
            JwksCache(timeout_s=2, cache_s=300).key(trusted, "k")
        server.body_override = b"[" * 100_000 + b"]" * 100_000  # past the parser's recursion
        with pytest.raises(KeyUnavailable, match="not JSON"):
            JwksCache(timeout_s=2, cache_s=300).key(trusted, "k")


def test_jwks_url_on_a_closed_port_fails_fast(tmp_path: Path) -> None:
    with jwks_server({"keys": []}) as server:
        closed_url = server.url
    with pytest.raises(KeyUnavailable, match="could not be fetched"):
        JwksCache(timeout_s=2, cache_s=300).key(_url_issuer(tmp_path, closed_url), "k")


@pytest.mark.parametrize(
    ("jwk_change", "algorithm", "message"),
    [
        ({"use": "enc"}, "ES384", "not a signing key"),
        ({"alg": "ES256"}, "ES384", "another algorithm"),
        ({"alg": "RS384"}, "RS384", "does not fit"),  # an EC key labelled for RSA
    ],
)
def test_keys_meant_for_something_else_are_refused(
    jwk_change: dict[str, str], algorithm: str, message: str
) -> None:
    jwk = ec_key().public_jwk() | jwk_change
    with pytest.raises(KeyUnavailable, match=message):
        jwks.public_key_for(jwk, algorithm)


def test_a_published_private_key_is_not_a_trust_anchor() -> None:
    key = ec_key()
    private_jwk = json.loads(
        jwks.PyJWK.from_dict(key.public_jwk()).Algorithm.to_jwk(key.private_key)
    )
    with pytest.raises(KeyUnavailable, match="not a public key"):
        jwks.public_key_for(private_jwk | {"kid": key.kid}, "ES384")


def test_a_trickling_jwks_url_is_given_up_after_the_timeout(tmp_path: Path) -> None:
    """Each byte arrives inside the read timeout: only the fetch's own time limit can end it."""
    with jwks_server(jwks_document(ec_key())) as server:
        server.trickle_interval_s = 0.1
        started = time.monotonic()
        with pytest.raises(KeyUnavailable, match="took longer than 1"):
            JwksCache(timeout_s=1, cache_s=300).key(_url_issuer(tmp_path, server.url), "k")
        assert time.monotonic() - started < 1 + 1.0  # one read of 0.1 s past it, with slack


# --- a failing or hanging JWKS holds up no one else ------------------------------------------


def test_a_failing_jwks_is_tried_again_only_after_a_growing_back_off(tmp_path: Path) -> None:
    key = ec_key()
    clock = FakeMonotonic()
    with jwks_server(jwks_document(key)) as server:
        server.status = 500
        trusted = _url_issuer(tmp_path, server.url)
        cache = JwksCache(timeout_s=2, cache_s=300, monotonic=clock)
        for _ in range(5):  # 50 bad tokens used to mean 50 fetches
            with pytest.raises(KeyUnavailable, match="HTTP 500"):
                cache.key(trusted, key.kid)
        assert len(server.hits) == 1
        for pause_s, hits in ((1.0, 2), (2.0, 3), (4.0, 4)):  # back-off 1 s, then 2, then 4
            clock.now += pause_s - 0.01
            with pytest.raises(KeyUnavailable, match="tried again in 1 s"):
                cache.key(trusted, key.kid)
            assert len(server.hits) == hits - 1
            clock.now += 0.01
            with pytest.raises(KeyUnavailable, match="HTTP 500"):
                cache.key(trusted, key.kid)
            assert len(server.hits) == hits
        server.status = 200  # the issuer is back: the next try (after 8 s) succeeds
        clock.now += 8
        assert cache.key(trusted, key.kid)["kid"] == key.kid
        assert len(server.hits) == 5


def _in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Run `call` in a thread; its result (or the exception it raised) lands in the list."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:  # the test looks at what was raised
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_a_hanging_jwks_holds_up_no_other_issuer(tmp_path: Path) -> None:
    """Issuer A's JWKS hangs while A's key is being fetched: issuer B's calls, with its keys
    cached or fetched for the first time, answer at once (one lock per process used to make
    every issuer wait for A's fetch)."""
    a_key, b_key, c_key = ec_key("a"), ec_key("b"), ec_key("c")
    with (
        jwks_server(jwks_document(a_key)) as hanging,
        jwks_server(jwks_document(b_key)) as healthy,
        jwks_server(jwks_document(c_key)) as cold,
    ):
        a = _url_issuer(tmp_path, hanging.url, "https://a.example")
        b = _url_issuer(tmp_path, healthy.url, "https://b.example")
        c = _url_issuer(tmp_path, cold.url, "https://c.example")
        cache = JwksCache(timeout_s=5, cache_s=300)
        cache.key(b, "b")
        hanging.hang_until_released()
        thread, outcome = _in_thread(lambda: cache.key(a, "a"))
        hanging.wait_for_hits(1)  # A's fetch is in flight and will not end by itself
        started = time.monotonic()
        assert cache.key(b, "b")["kid"] == "b"
        assert cache.key(c, "c")["kid"] == "c"
        assert time.monotonic() - started < 1.0
        assert thread.is_alive() and not outcome
        hanging.stop_hanging()
        thread.join(timeout=10)
        assert outcome and isinstance(outcome[0], dict) and outcome[0]["kid"] == "a"


def test_callers_share_a_first_fetch_in_flight(tmp_path: Path) -> None:
    key = ec_key()
    with jwks_server(jwks_document(key)) as server:
        trusted = _url_issuer(tmp_path, server.url)
        cache = JwksCache(timeout_s=5, cache_s=300)
        server.hang_until_released()
        calls = [_in_thread(lambda: cache.key(trusted, key.kid)) for _ in range(6)]
        server.wait_for_hits(1)
        server.stop_hanging()
        for thread, _outcome in calls:
            thread.join(timeout=10)
        assert [o[0]["kid"] for _t, o in calls] == [key.kid] * 6  # type: ignore[index]
        assert len(server.hits) == 1


def test_while_a_failing_jwks_is_tried_again_the_others_are_answered_at_once(
    tmp_path: Path,
) -> None:
    key = ec_key()
    clock = FakeMonotonic()
    with jwks_server(jwks_document(key)) as server:
        server.status = 500
        trusted = _url_issuer(tmp_path, server.url)
        cache = JwksCache(timeout_s=5, cache_s=300, monotonic=clock)
        with pytest.raises(KeyUnavailable):
            cache.key(trusted, key.kid)
        clock.now += 1  # the back-off is over: the next caller tries again, and that hangs
        server.hang_until_released()
        thread, _ = _in_thread(lambda: cache.key(trusted, key.kid))
        server.wait_for_hits(2)
        started = time.monotonic()
        for _ in range(20):
            with pytest.raises(KeyUnavailable, match="being fetched again"):
                cache.key(trusted, key.kid)
        assert time.monotonic() - started < 1.0
        server.stop_hanging()
        thread.join(timeout=10)


def test_keys_are_refreshed_early_and_never_used_past_their_cache_time(tmp_path: Path) -> None:
    key = ec_key()
    clock = FakeMonotonic()
    with jwks_server(jwks_document(key)) as server:
        trusted = _url_issuer(tmp_path, server.url)
        cache = JwksCache(timeout_s=5, cache_s=100, monotonic=clock)
        cache.key(trusted, key.kid)
        clock.now += 81  # past 80 % of the cache time: one caller refreshes ...
        server.hang_until_released()
        thread, outcome = _in_thread(lambda: cache.key(trusted, key.kid))
        server.wait_for_hits(2)
        started = time.monotonic()
        assert cache.key(trusted, key.kid)["kid"] == key.kid  # ... the others use the keys
        assert time.monotonic() - started < 1.0
        server.status = 500
        server.stop_hanging()
        thread.join(timeout=10)
        assert outcome[0]["kid"] == key.kid  # type: ignore[index]  # a failed refresh keeps them
        clock.now += 20  # 101 s after the last good fetch: the keys have expired
        with pytest.raises(KeyUnavailable, match="HTTP 500"):
            cache.key(trusted, key.kid)


def test_the_app_fetches_jwks_urls_at_startup(
    tmp_path: Path, make_app: Callable[..., Flask]
) -> None:
    key = ec_key()
    with jwks_server(jwks_document(key)) as healthy, jwks_server({"keys": []}) as hanging:
        hanging.hang_until_released()
        issuers = write_issuers_file(
            tmp_path,
            {"https://a.example": {"jwks_url": healthy.url},
             "https://b.example": {"jwks_url": hanging.url}},
        )  # fmt: skip
        started = time.monotonic()
        make_app(auth_required=True, auth_issuers_file=str(issuers), auth_jwks_timeout_s=1.0)
        assert time.monotonic() - started < 2 * 1.0 + 1 + 5  # the hanging one is given up
        assert len(healthy.hits) == 1 and len(hanging.hits) == 1
