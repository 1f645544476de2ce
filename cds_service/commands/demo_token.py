"""`jdm-cds demo-token`: a demo JWT issuer for local stacks, and tokens signed by it.

The docker compose stack runs with auth on. Rather than keep a private key in the repository,
the stack's loader creates a fresh ES384 key pair in a volume on first start
(:func:`ensure_demo_issuer`), with the issuers file the service reads
(``CDS_AUTH_ISSUERS_FILE``). ``jdm-cds demo-token`` then signs a short-lived CDS Hooks JWT with
that key, for curl. The issuer name ends in ``.invalid``: it can never be a real EHR.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

DEMO_ISSUER = "https://demo-ehr.jdm-cds.invalid"
PRIVATE_KEY_FILE = "private-key.pem"
JWKS_FILE = "jwks.json"
ISSUERS_FILE = "issuers.json"
KEY_ID = "demo-ehr-es384"


def ensure_demo_issuer(folder: Path) -> Path:
    """Create the key pair, JWKS and issuers file in `folder` unless they exist; return the
    issuers file. Idempotent: a second call keeps the first key (tokens stay valid)."""
    folder.mkdir(parents=True, exist_ok=True)
    private_path = folder / PRIVATE_KEY_FILE
    if not private_path.exists():
        key = ec.generate_private_key(ec.SECP384R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
    key = _load_private_key(private_path)
    public_jwk: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public_jwk.update({"kid": KEY_ID, "alg": "ES384", "use": "sig"})
    (folder / JWKS_FILE).write_text(json.dumps({"keys": [public_jwk]}, indent=2) + "\n")
    issuers_path = folder / ISSUERS_FILE
    issuers = {DEMO_ISSUER: {"jwks_file": str(folder / JWKS_FILE)}}
    issuers_path.write_text(json.dumps(issuers, indent=2) + "\n")
    return issuers_path


def _load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: not an EC private key")
    return key


def demo_token(folder: Path, audience: str, *, ttl_s: int = 300, now: float | None = None) -> str:
    """A CDS Hooks JWT (ES384, `kid`, `jti`) from the demo issuer for the endpoint `audience`."""
    issued_at = int(time.time() if now is None else now)
    claims = {
        "iss": DEMO_ISSUER,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + ttl_s,
        "jti": str(uuid.uuid4()),
    }
    key = _load_private_key(folder / PRIVATE_KEY_FILE)
    headers = {"kid": KEY_ID, "typ": "JWT"}
    return jwt.encode(claims, key, algorithm="ES384", headers=headers)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo-token",
        help="print a JWT from the local demo issuer (docker compose / jdm-cds demo)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--demo-issuer", type=Path, required=True, help="the issuer's folder")
    parser.add_argument(
        "--audience",
        required=True,
        help="the exact service URL called, e.g. http://localhost:8091/cds-services/jdm-ivig",
    )
    parser.add_argument("--ttl-s", type=int, default=300, help="lifetime (the spec: <= 300 s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not (args.demo_issuer / PRIVATE_KEY_FILE).exists():
        sys.stderr.write(
            f"no demo issuer in {args.demo_issuer}; run `jdm-cds demo --demo-issuer DIR` first\n"
        )
        return 2
    sys.stdout.write(demo_token(args.demo_issuer, args.audience, ttl_s=args.ttl_s) + "\n")
    return 0
