"""Test helpers for CDS Hooks JWTs: real keys, real signatures, a real JWKS server.

Keys are generated per test session (EC P-384 for ES384, RSA 2048 for RS384); nothing here
is a canned token.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from slow_body import write_slowly

ISSUER = "https://ehr.test.example"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private_key: Any

    def public_jwk(self) -> dict[str, Any]:
        algorithm_class = ECAlgorithm if self.algorithm.startswith("ES") else RSAAlgorithm
        jwk: dict[str, Any] = json.loads(
            algorithm_class.to_jwk(self.private_key.public_key())  # type: ignore[attr-defined]
        )
        jwk.update({"kid": self.kid, "alg": self.algorithm, "use": "sig"})
        return jwk


def ec_key(kid: str = "ec-key-1") -> SigningKey:
    return SigningKey(kid, "ES384", ec.generate_private_key(ec.SECP384R1()))


def rsa_key(kid: str = "rsa-key-1") -> SigningKey:
    return SigningKey(kid, "RS384", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def jwks_document(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.public_jwk() for key in keys]}


def make_token(
    key: SigningKey,
    *,
    audience: str,
    now: datetime,
    issuer: str = ISSUER,
    lifetime_s: int = 300,
    header_overrides: Mapping[str, Any] | None = None,
    claim_overrides: Mapping[str, Any] | None = None,
    drop_claims: tuple[str, ...] = (),
) -> str:
    """A JWT as a CDS Hooks client signs it; overrides bend one thing at a time."""
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "exp": issued + lifetime_s,
        "iat": issued,
        "jti": str(uuid.uuid4()),
    }
    claims.update(claim_overrides or {})
    for name in drop_claims:
        claims.pop(name, None)
    headers: dict[str, Any] = {"kid": key.kid, "typ": "JWT"}
    headers.update(header_overrides or {})
    return jwt.encode(claims, key.private_key, algorithm=key.algorithm, headers=headers)


def write_issuers_file(directory: Path, entries: Mapping[str, Mapping[str, Any]]) -> Path:
    path = directory / "issuers.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


@dataclass
class JwksServer:
    document: dict[str, Any]
    status: int = 200
    redirect_to: str | None = None
    body_override: bytes | None = None
    trickle_interval_s: float | None = None  # send the body a byte at a time, this far apart
    # while set, requests are held unanswered (a hanging JWKS) until it is cleared
    hang: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    hits: list[str] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    port: int = 0

    def hang_until_released(self) -> None:
        self.release.clear()
        self.hang.set()

    def stop_hanging(self) -> None:
        self.hang.clear()
        self.release.set()

    def wait_for_hits(self, count: int, timeout_s: float = 10.0) -> None:
        """Block until `count` requests have arrived in all (an event to wait for, not a sleep)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.hits) >= count, timeout=timeout_s):
                raise TimeoutError(f"the JWKS server received {len(self.hits)} of {count} requests")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"


@contextmanager
def jwks_server(document: dict[str, Any]) -> Iterator[JwksServer]:
    """Serve a JWKS over real HTTP on a free loopback port; records each request path."""
    state = JwksServer(document=document)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with state.arrived:
                state.hits.append(self.path)
                state.arrived.notify_all()
            if state.hang.is_set():
                state.release.wait(timeout=60)
            if state.redirect_to is not None:
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = state.body_override or json.dumps(state.document).encode()
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if state.trickle_interval_s is None:
                    self.wfile.write(body)
                else:
                    write_slowly(self.wfile, body, state.trickle_interval_s)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the service gave up waiting (its timeout): that is what is being tested

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop_hanging()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
