"""``create_app()``: settings (read once), the knowledge base (validated; a fault stops startup),
the store, the service registry and the HTTP blueprints::

    app = create_app({"database_url": "sqlite:////tmp/x.sqlite3"},
                     clock=lambda: datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Pacific/Auckland")))
    state(app).registry.get("jdm-ivig").hook   # "patient-view"
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from cds_service.config import Settings
from cds_service.gather.fhir_client import check_allowlist
from cds_service.gather.registry import build_registry
from cds_service.gather.server_slots import ServerSlots
from cds_service.knowledge.codings import VITAL_SIGNS_PANEL, search_tokens
from cds_service.knowledge.loader import Knowledge, load_knowledge
from cds_service.store.database import open_store
from cds_service.web import metrics
from cds_service.web.audit import install_audit
from cds_service.web.auth.tokens import install_auth
from cds_service.web.cors import install_cors
from cds_service.web.errors import register_error_handlers
from cds_service.web.feedback import feedback_blueprint
from cds_service.web.feedback_summary import feedback_summary_blueprint
from cds_service.web.health import health_blueprint
from cds_service.web.hooks import blueprint
from cds_service.web.metrics_access import check_metrics_access
from cds_service.web.order_set_pages import order_sets_blueprint
from cds_service.web.state import EXTENSION_KEY, AppState


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    config: Settings | Mapping[str, Any] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> Flask:
    """Build the app. ``config``: Settings, a mapping of setting names, or None for ``CDS_*``.

    Raises :class:`~cds_service.knowledge.loader.KnowledgeError` when the knowledge base is
    invalid and :class:`~cds_service.config.SettingsError` when a setting is: the service must not
    start then.
    """
    settings = _settings_from(config)
    check_allowlist(settings.fhir_server_allowlist)
    check_metrics_access(settings.metrics_access)
    knowledge = load_knowledge(Path(settings.knowledge_dir))
    store = open_store(settings.database_url, settings.retention_days)
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
        fhir_slots=ServerSlots(settings.fhir_max_calls_per_server),
    )
    register_error_handlers(app)
    install_cors(app, settings)
    install_audit(app)
    install_auth(app, settings, store, clock or utc_now)
    metrics.init_app(app)
    app.register_blueprint(blueprint)
    app.register_blueprint(health_blueprint)  # /healthz, /healthz/ready, /readyz
    app.register_blueprint(order_sets_blueprint)  # GET /order-sets[/<id>], linked from cards
    app.register_blueprint(feedback_blueprint)  # POST .../feedback
    app.register_blueprint(feedback_summary_blueprint)  # GET .../feedback/summary
    return app


def _settings_from(config: Settings | Mapping[str, Any] | None) -> Settings:
    if config is None:
        return Settings.from_env(os.environ)
    if isinstance(config, Settings):
        return config
    return Settings.from_mapping(config)


def _observation_codes(knowledge: Knowledge) -> list[str]:
    """Observation codes for the prefetch filter: the value sets', also under their systems'
    OIDs, and the vital-signs panel that carries weight and height (sorted, unique)."""
    codes = knowledge.terminology.search_codes("Observation")
    return search_tokens([*codes, VITAL_SIGNS_PANEL])
