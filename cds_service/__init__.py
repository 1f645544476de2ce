"""jdm-cds: a CDS Hooks 2.0 service for refractory juvenile dermatomyositis.

``create_app()`` builds the Flask app: settings (read once), the knowledge base (validated; a
fault stops startup), the store, the service registry and the HTTP blueprint::

    app = create_app({"database_url": "sqlite:////tmp/x.sqlite3"},
                     clock=lambda: datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Pacific/Auckland")))
    state(app).registry.get("jdm-ivig").hook   # "patient-view"
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from cds_service.config import Settings
from cds_service.knowledge import Knowledge, load_knowledge
from cds_service.services import ServiceRegistry, build_registry
from cds_service.store import Store, open_store

EXTENSION_KEY = "jdm_cds"


@dataclass(frozen=True)
class AppState:
    """What every request handler needs; lives at ``app.extensions["jdm_cds"]``."""

    settings: Settings
    knowledge: Knowledge
    store: Store
    registry: ServiceRegistry
    clock: Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    config: Settings | Mapping[str, Any] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    """Build the app. ``config``: Settings, a mapping of setting names, or None for ``CDS_*``.

    Raises :class:`~cds_service.knowledge.KnowledgeError` when the knowledge base is invalid and
    :class:`~cds_service.config.SettingsError` when a setting is: the service must not start then.
    """
    settings = _settings_from(config)
    knowledge = load_knowledge(Path(settings.knowledge_dir))
    store = open_store(settings.database_url)
    registry = build_registry(_observation_codes(knowledge), settings.fhir_page_size)

    app = Flask(__name__, static_folder=None)  # no /static route: nothing is served from disk
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = AppState(
        settings=settings,
        knowledge=knowledge,
        store=store,
        registry=registry,
        clock=clock or utc_now,
    )

    from cds_service import metrics
    from cds_service.audit import install_audit
    from cds_service.auth import install_auth
    from cds_service.errors import register_error_handlers
    from cds_service.feedback_summary import feedback_summary_blueprint
    from cds_service.hooks import blueprint, install_cors
    from cds_service.order_sets import order_sets_blueprint

    register_error_handlers(app)
    install_cors(app)
    install_audit(app)
    install_auth(app, settings, store, clock or utc_now)
    metrics.init_app(app)
    app.register_blueprint(blueprint)
    app.register_blueprint(order_sets_blueprint)  # GET /order-sets[/<id>], linked from cards
    app.register_blueprint(feedback_summary_blueprint)  # GET .../feedback/summary
    return app


def state(app: Flask | None = None) -> AppState:
    """The AppState of ``app`` (default: the app handling the current request)."""
    target = app if app is not None else current_app
    app_state: AppState = target.extensions[EXTENSION_KEY]
    return app_state


def _settings_from(config: Settings | Mapping[str, Any] | None) -> Settings:
    if config is None:
        return Settings.from_env(os.environ)
    if isinstance(config, Settings):
        return config
    return Settings.from_mapping(config)


def _observation_codes(knowledge: Knowledge) -> list[str]:
    """Observation codes for the prefetch filter, from the value sets (sorted, unique)."""
    return sorted(set(knowledge.terminology.search_codes("Observation")))
