"""CDS Hooks JWT authentication over HTTP: real keys, real signatures, a real JWKS server.

Each failure class answers 401 with an OperationOutcome and a ``WWW-Authenticate`` challenge; a
valid token passes. Public base URL ``https://cds.example.org/jdm`` stands for a proxy in front of
the service: the audience is that URL plus the path called.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from jwt_helpers import (
    ISSUER,
    SigningKey,
    ec_key,
    jwks_document,
    jwks_server,
    make_token,
    rsa_key,
    write_issuers_file,
)
from schema_check import assert_error

from cds_service.app import create_app
from cds_service.web.auth.tokens import AuthConfigError
from fhir_fixtures.clocks import FROZEN_NOW, frozen_clock

PUBLIC_BASE = "https://cds.example.org/jdm"
DISCOVERY_AUD = PUBLIC_BASE + "/cds-services"
URL_ISSUER = "https://url-ehr.test.example"
# the apps here run on this frozen clock (non-UTC, so offset bugs show); tokens are made for it


@dataclass
class TrustSetup:
    ec: SigningKey
    rsa: SigningKey
    url_key: SigningKey
    jwks_url: str
    issuers_file: Path

    def token(self, key: SigningKey | None = None, **kwargs: Any) -> str:
        kwargs.setdefault("audience", DISCOVERY_AUD)
        kwargs.setdefault("now", FROZEN_NOW)
        return make_token(key or self.ec, **kwargs)


@pytest.fixture(scope="module")
def keys() -> tuple[SigningKey, SigningKey, SigningKey]:
    return ec_key("ehr-ec"), rsa_key("ehr-rsa"), ec_key("url-ec")


@pytest.fixture(scope="module")
def trust(
    tmp_path_factory: pytest.TempPathFactory, keys: tuple[SigningKey, SigningKey, SigningKey]
) -> Iterator[TrustSetup]:
    ec_signer, rsa_signer, url_key = keys
    folder = tmp_path_factory.mktemp("trust")
    (folder / "ehr.jwks.json").write_text(json.dumps(jwks_document(ec_signer, rsa_signer)))
    with jwks_server(jwks_document(url_key)) as server:
        issuers = write_issuers_file(
            folder,
            {ISSUER: {"jwks_file": "ehr.jwks.json"}, URL_ISSUER: {"jwks_url": server.url}},
        )
        yield TrustSetup(ec_signer, rsa_signer, url_key, server.url, issuers)


AUTH_SETTINGS = {"auth_required": True, "public_base_url": PUBLIC_BASE}


@pytest.fixture(scope="module")
def auth_app(tmp_path_factory: pytest.TempPathFactory, trust: TrustSetup) -> Flask:
    """One app for the module (every token has its own jti, so tests do not interfere)."""
    database = tmp_path_factory.mktemp("auth-store") / "jdm-cds.sqlite3"
    settings = {
        **AUTH_SETTINGS,
        "auth_issuers_file": str(trust.issuers_file),
        "database_url": f"sqlite:///{database}",
    }
    return create_app(settings, clock=frozen_clock)


@pytest.fixture
def auth_client(auth_app: Flask) -> FlaskClient:
    return auth_app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response: Any, reason_fragment: str) -> None:
    body = assert_error(response, 401, "login")
    assert reason_fragment in body["issue"][0]["diagnostics"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="jdm-cds"')
    assert 'error="invalid_token"' in challenge
    assert reason_fragment in challenge


def assert_token_missing(response: Any) -> None:
    """RFC 6750 3.1: a request without credentials gets a challenge without an error code."""
    body = assert_error(response, 401, "login")
    assert "bearer token missing" in body["issue"][0]["diagnostics"]
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="jdm-cds"'


def _other_port(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{(parts.port or 80) + 1}"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_public_key_as_secret(trust: TrustSetup) -> str:
    """The classic algorithm-confusion forgery: HMAC keyed with the issuer's public key."""
    public_pem = trust.rsa.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": trust.rsa.kid}
    claims = json.loads(_payload(trust.token(trust.rsa)))
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def unsigned_token(trust: TrustSetup) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": trust.ec.kid}).encode())
    return f"{header}.{_b64(_payload(trust.token()).encode())}."


def _payload(token: str) -> str:
    segment = token.split(".")[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()


def test_valid_es384_and_rs384_tokens_are_accepted(
    auth_client: FlaskClient, trust: TrustSetup
) -> None:
    for key in (trust.ec, trust.rsa):
        response = auth_client.get("/cds-services", headers=bearer(trust.token(key)))
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["services"]


def test_issuer_with_jwks_url_and_matching_jku_is_accepted(
    auth_client: FlaskClient, trust: TrustSetup
) -> None:
    token = trust.token(trust.url_key, issuer=URL_ISSUER, header_overrides={"jku": trust.jwks_url})
    assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 200


def test_missing_token_gets_a_bare_challenge(auth_client: FlaskClient) -> None:
    assert_token_missing(auth_client.get("/cds-services"))


# each case: (name, how to build the Authorization header value, reason in the answer)
FAILURES: list[tuple[str, Callable[[TrustSetup], str], str]] = [
    ("not-bearer", lambda t: "Basic dXNlcjpwYXNz", "must be 'Bearer <JWT>'"),
    ("garbage", lambda t: "Bearer not.a.jwt", "not a well-formed"),
    (
        "bad-alg-es256",
        lambda t: "Bearer " + make_token(
            SigningKey(t.ec.kid, "ES256", ec.generate_private_key(ec.SECP256R1())),
            audience=DISCOVERY_AUD, now=FROZEN_NOW,
        ),
        "algorithm not accepted",
    ),
    ("alg-none", lambda t: "Bearer " + unsigned_token(t), "algorithm not accepted"),
    ("hs256-public-key", lambda t: "Bearer " + hs256_with_public_key_as_secret(t),
     "algorithm not accepted"),
    ("unknown-kid", lambda t: "Bearer " + t.token(header_overrides={"kid": "nope"}),
     "kid is not in the issuer's JWKS"),
    ("no-kid", lambda t: "Bearer " + t.token(header_overrides={"kid": ""}), "kid header missing"),
    ("unknown-iss", lambda t: "Bearer " + t.token(issuer="https://evil.example"),
     "issuer not trusted"),
    ("jku-mismatch", lambda t: "Bearer " + t.token(
        header_overrides={"jku": "https://evil.example/jwks.json"}), "jku does not match"),
    ("jku-on-file-issuer", lambda t: "Bearer " + t.token(
        header_overrides={"jku": t.jwks_url}), "jku does not match"),
    ("wrong-aud", lambda t: "Bearer " + t.token(audience="https://cds.example.org/cds-services"),
     "aud does not match"),
    ("aud-of-other-endpoint", lambda t: "Bearer " + t.token(
        audience=PUBLIC_BASE + "/cds-services/jdm-ivig"), "aud does not match"),
    ("expired", lambda t: "Bearer " + t.token(now=FROZEN_NOW - timedelta(minutes=10)),
     "token expired"),
    ("too-long-lived", lambda t: "Bearer " + t.token(lifetime_s=3600), "lives too long"),
    ("future-iat", lambda t: "Bearer " + t.token(
        claim_overrides={"iat": int(FROZEN_NOW.timestamp()) + 600}), "issued in the future"),
    ("missing-jti", lambda t: "Bearer " + t.token(drop_claims=("jti",)), "jti claim missing"),
    ("missing-exp", lambda t: "Bearer " + t.token(drop_claims=("exp",)), "exp claim missing"),
    ("missing-aud", lambda t: "Bearer " + t.token(drop_claims=("aud",)), "aud claim missing"),
    ("string-exp", lambda t: "Bearer " + t.token(claim_overrides={"exp": "tomorrow"}),
     "exp claim must be a number"),
    ("nan-exp", lambda t: "Bearer " + t.token(claim_overrides={"exp": math.nan}),
     "exp claim must be a finite number"),
    ("nan-iat", lambda t: "Bearer " + t.token(claim_overrides={"iat": math.nan}),
     "iat claim must be a finite number"),
    ("nan-nbf", lambda t: "Bearer " + t.token(claim_overrides={"nbf": math.nan}),
     "nbf claim must be a finite number"),
    ("infinite-exp", lambda t: "Bearer " + t.token(claim_overrides={"exp": math.inf}),
     "exp claim must be a finite number"),
    ("minus-infinite-iat", lambda t: "Bearer " + t.token(claim_overrides={"iat": -math.inf}),
     "iat claim must be a finite number"),
    ("huge-integer-exp", lambda t: "Bearer " + t.token(claim_overrides={"exp": 10**400}),
     "exp claim must be a finite number"),
    ("jku-other-port", lambda t: "Bearer " + t.token(
        t.url_key, issuer=URL_ISSUER, header_overrides={"jku": _other_port(t.jwks_url)}),
     "jku does not match"),
    ("bad-signature", lambda t: "Bearer " + make_token(
        ec_key(t.ec.kid), audience=DISCOVERY_AUD, now=FROZEN_NOW), "signature does not verify"),
    ("rs-key-under-es-header", lambda t: "Bearer " + make_token(
        SigningKey(t.rsa.kid, "ES384", t.ec.private_key), audience=DISCOVERY_AUD, now=FROZEN_NOW),
     "for another algorithm"),
]  # fmt: skip


@pytest.mark.parametrize(("header", "reason"), [(f[1], f[2]) for f in FAILURES],
                         ids=[f[0] for f in FAILURES])  # fmt: skip
def test_each_failure_class_is_a_401_with_a_challenge(
    auth_client: FlaskClient,
    trust: TrustSetup,
    header: Callable[[TrustSetup], str],
    reason: str,
) -> None:
    response = auth_client.get("/cds-services", headers={"Authorization": header(trust)})
    assert_refused(response, reason)


def test_a_replayed_token_is_refused(auth_client: FlaskClient, trust: TrustSetup) -> None:
    token = trust.token()
    assert auth_client.get("/cds-services", headers=bearer(token)).status_code == 200
    assert_refused(auth_client.get("/cds-services", headers=bearer(token)), "replayed")


def test_replay_is_caught_across_two_app_instances_sharing_one_store(
    make_app: Callable[..., Flask], trust: TrustSetup
) -> None:
    settings = {**AUTH_SETTINGS, "auth_issuers_file": str(trust.issuers_file)}
    first = make_app(clock=frozen_clock, **settings)
    second = make_app(clock=frozen_clock, **settings)  # same SQLite file: two workers
    token = trust.token()
    assert first.test_client().get("/cds-services", headers=bearer(token)).status_code == 200
    assert_refused(second.test_client().get("/cds-services", headers=bearer(token)), "replayed")


def test_a_bad_token_does_not_use_up_its_jti(auth_client: FlaskClient, trust: TrustSetup) -> None:
    claims = {"jti": "shared-jti-1"}
    forged = make_token(ec_key(trust.ec.kid), audience=DISCOVERY_AUD, now=FROZEN_NOW,
                        claim_overrides=claims)  # fmt: skip
    assert_refused(auth_client.get("/cds-services", headers=bearer(forged)), "signature")
    genuine = trust.token(claim_overrides=claims)
    assert auth_client.get("/cds-services", headers=bearer(genuine)).status_code == 200


def test_service_call_and_feedback_need_a_token_for_their_own_url(
    auth_client: FlaskClient, trust: TrustSetup
) -> None:
    body = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/1", "patientId": "p1"}}  # fmt: skip
    service_url = "/cds-services/jdm-ivig"
    assert_refused(auth_client.post(service_url, json=body, headers=bearer(trust.token())), "aud")
    token = trust.token(audience=PUBLIC_BASE + service_url)
    answered = auth_client.post(service_url, json=body, headers=bearer(token))
    assert answered.status_code == 412  # past auth: no data to be had, which is the next check
    feedback = {
        "feedback": [
            {
                "card": "a7a1e0b3-8c8c-4c39-9f25-3f3d2a1e0b3a",
                "outcome": "accepted",
                "outcomeTimestamp": "2026-03-10T09:00:00Z",
            }
        ]
    }
    feedback_url = service_url + "/feedback"
    assert_token_missing(auth_client.post(feedback_url, json=feedback))
    token = trust.token(audience=PUBLIC_BASE + feedback_url)
    answered = auth_client.post(feedback_url, json=feedback, headers=bearer(token))
    assert "feedback[0].card" in assert_error(answered, 400)["issue"][0]["diagnostics"]  # past auth


def test_preflight_and_non_hook_paths_need_no_token(auth_client: FlaskClient) -> None:
    preflight = auth_client.options(
        "/cds-services/jdm-ivig",
        headers={"Origin": "https://ehr.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code in (200, 204)
    # auth on: every origin may call (CDS_CORS_ORIGINS limits browsers only with auth off)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert auth_client.get("/healthz").status_code == 200
    assert auth_client.get("/openapi.json").status_code == 200


def test_discovery_can_be_left_open(make_app: Callable[..., Flask], trust: TrustSetup) -> None:
    app = make_app(
        clock=frozen_clock,
        auth_required=True,
        auth_on_discovery=False,
        auth_issuers_file=str(trust.issuers_file),
        public_base_url=PUBLIC_BASE,
    )
    client = app.test_client()
    assert client.get("/cds-services").status_code == 200
    assert_token_missing(client.post("/cds-services/jdm-ivig", json={}))


def test_refusals_are_logged_with_reason_but_never_the_token(
    auth_client: FlaskClient, trust: TrustSetup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = trust.token(audience="https://elsewhere.example/cds-services")
    auth_client.get("/cds-services", headers=bearer(token))
    messages = [record.getMessage() for record in caplog.records]
    assert any("aud does not match" in message for message in messages)
    everything = "\n".join(messages) + caplog.text
    assert token not in everything
    assert token.split(".")[2] not in everything  # not even the signature part


def test_auth_required_without_trusted_issuer_refuses_to_start(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    with pytest.raises(AuthConfigError, match="CDS_AUTH_ISSUERS_FILE"):
        make_app(auth_required=True)
    empty = write_issuers_file(tmp_path, {})
    with pytest.raises(AuthConfigError, match="trusts no issuer"):
        make_app(auth_required=True, auth_issuers_file=str(empty))


def test_auth_off_is_said_loudly_at_startup(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    client = make_app(auth_required=False).test_client()
    assert any("AUTHENTICATION IS OFF" in r.getMessage() for r in caplog.records)
    assert client.get("/cds-services").status_code == 200
