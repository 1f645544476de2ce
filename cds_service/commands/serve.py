"""`jdm-cds serve`: run the service under gunicorn (the production entry point).

Unlike ``make run`` (local, loopback, auth off), ``serve`` turns JWT auth ON unless
``CDS_AUTH_REQUIRED`` is set explicitly. Options override the matching ``CDS_*`` variables.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

GUNICORN_CONF = Path(__file__).resolve().parent.parent / "serving" / "gunicorn_conf.py"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="Run the CDS Hooks service under gunicorn.")
    parser.add_argument("--host", help="bind address (CDS_HOST)")
    parser.add_argument("--port", type=int, help="TCP port (CDS_PORT)")
    parser.add_argument("--workers", type=int, help="worker processes (CDS_WORKERS)")
    parser.set_defaults(func=run)


def server_environment(args: argparse.Namespace, environ: dict[str, str]) -> dict[str, str]:
    """The environment gunicorn runs with: the caller's, plus options and the auth default."""
    env = dict(environ)
    env.setdefault("CDS_AUTH_REQUIRED", "true")
    for option, name in (("host", "CDS_HOST"), ("port", "CDS_PORT"), ("workers", "CDS_WORKERS")):
        value = getattr(args, option)
        if value is not None:
            env[name] = str(value)
    return env


def run(args: argparse.Namespace) -> int:
    env = server_environment(args, dict(os.environ))
    command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)]
    os.execvpe(command[0], command, env)  # noqa: S606 (fixed argv: this interpreter + gunicorn)
    return 0  # not reached
