"""Shared fixtures: a fresh app per test (frozen, non-UTC clock), its client, a real FHIR server.

- ``make_app(**settings)``: a new app on a temp SQLite store, clock frozen at ``FROZEN_NOW``
  (fhir_fixtures/clocks.py: Pacific/Auckland, so UTC-vs-local date bugs show). ``app``, ``client``.
- ``fhir_server`` (session): sekmet-fhir on a free port with a temp data dir; ``.base_url``,
  ``.load(transaction_bundle)``, ``.search_all(relative_url)``; stopped at the end.
- ``database_url``: a fresh store, once SQLite and once PostgreSQL (skipped without Debian's
  ``postgresql``); tests of what the store keeps run on both.
- ``assert_valid(response, "HookResponse")``: the body validates against the OpenAPI schemas
  (also importable: ``from schema_check import assert_valid``).
- ``spy``: what the HTTP layer hands the pipeline on each hook call (``resources``, ``notes``,
  ``calls``); the pipeline still runs.
- ``production_server`` (session): gunicorn with the shipped config (auth off, one worker of two
  threads); ``proxy`` (session): nginx with deploy/nginx/ in front of it, skipped when nginx is
  not installed.

A test that starts a server in another process is marked ``server``: by hand for gunicorn, and
here for every test that uses ``fhir_server`` or ``postgres_server`` (or is marked ``postgres``).
``make test-fast`` runs the others (``-m "not server and not slow"``).

Under pytest-xdist (``--dist loadgroup``) each module is a group, run on one worker (its module
fixtures are made once), except that the ``server`` tests and the modules that time the service
against a deadline (:data:`TIMED_MODULES`) share one group: they run one after another, so a
test that loads the machine (gunicorn under load, sekmet) never starves one that counts seconds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fhir_server import SekmetServer
from flask import Flask
from flask.testing import FlaskClient
from postgres_server import PostgresServer, find_bin_dir, start_postgres
from schema_check import assert_valid as _assert_valid

import cds_service.web.hooks as hooks
from bench import load
from bench import proxy as nginx_proxy
from cds_service.app import create_app
from cds_service.web.state import state
from fhir_fixtures.clocks import frozen_clock

SERVER_FIXTURES = frozenset({"fhir_server", "postgres_server", "production_server", "proxy"})
TIMED_MODULES = frozenset(
    {
        "tests/test_call_budgets.py",
        "tests/test_fault_behaviour.py",
        "tests/test_fetch_helpers.py",
        "tests/test_jwks.py",
        "tests/test_limits_http.py",
        "tests/test_prefetch_ladder.py",
    }
)
TIMED_OR_LOADED = "timed-or-loaded"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses = set(getattr(item, "fixturenames", ()))
        if uses & SERVER_FIXTURES or item.get_closest_marker("postgres") is not None:
            item.add_marker(pytest.mark.server)
        module = item.nodeid.split("::", 1)[0]
        timed = module in TIMED_MODULES or item.get_closest_marker("server") is not None
        item.add_marker(pytest.mark.xdist_group(TIMED_OR_LOADED if timed else module))


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Factory: ``make_app(fhir_page_size=10, clock=...)`` -> a new app (same temp store); the
    stores of the apps it made are closed after the test."""
    made: list[Flask] = []

    def build(clock: Callable[[], datetime] | None = None, **settings: Any) -> Flask:
        settings.setdefault("database_url", f"sqlite:///{tmp_path / 'store' / 'jdm-cds.sqlite3'}")
        app = create_app(settings, clock=clock or frozen_clock)
        made.append(app)
        return app

    yield build
    for app in made:
        state(app).store.close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SekmetServer]:
    with SekmetServer.start(tmp_path_factory.mktemp("sekmet")) as server:
        yield server


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Records what the HTTP layer hands the pipeline (the pipeline itself still runs)."""
    seen: dict[str, Any] = {}
    real_evaluate = hooks.evaluate

    def recording_evaluate(
        resources: Any, context: Any, knowledge: Any, now: Any, **kw: Any
    ) -> Any:
        seen["resources"] = copy.deepcopy(list(resources))
        seen["notes"] = list(kw.get("gather_notes", ()))
        seen["calls"] = seen.get("calls", 0) + 1
        return real_evaluate(resources, context, knowledge, now, **kw)

    monkeypatch.setattr(hooks, "evaluate", recording_evaluate)
    return seen


@pytest.fixture
def assert_valid() -> Callable[[Any, str], Any]:
    return _assert_valid


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store: a SQLite file, and (a second run) a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'store.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL cluster; ``.create_database()`` -> a URL. Skips when Debian's
    ``postgresql`` binaries are absent (``.ci/run`` installs them)."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries (Debian package postgresql) are not installed")
    server = start_postgres(bin_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[load.Server]:
    """gunicorn with cds_service/serving/gunicorn_conf.py, auth off, ONE worker of TWO threads
    (so a test can tell whether slow clients hold its threads)."""
    folder = tmp_path_factory.mktemp("production")
    two_threads = {"CDS_THREADS": "2"}
    with load.running_server(folder, auth=False, workers=1, extra_env=two_threads) as server:
        yield server


@pytest.fixture(scope="session")
def proxy(
    production_server: load.Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[nginx_proxy.Proxy]:
    """nginx with the repository's config (deploy/nginx/) in front of ``production_server``."""
    if nginx_proxy.nginx_executable() is None:
        pytest.skip(
            "nginx is not installed (Debian package nginx-light; .ci/run installs it when it "
            "runs as root)"
        )
    upstream = production_server.base_url.removeprefix("http://")
    with nginx_proxy.running_proxy(tmp_path_factory.mktemp("nginx"), [upstream]) as running:
        yield running
