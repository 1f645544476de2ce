"""What every request handler needs, built once by ``create_app``: ``state(app)``.

Lives at ``app.extensions["jdm_cds"]``; handlers call :func:`state` for the current app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app

from cds_service.config import Settings
from cds_service.gather.registry import ServiceRegistry
from cds_service.gather.server_slots import ServerSlots
from cds_service.knowledge.loader import Knowledge
from cds_service.store.database import Store

EXTENSION_KEY = "jdm_cds"


@dataclass(frozen=True)
class AppState:
    """Settings, knowledge, store, service registry, clock and FHIR-server slots of one app."""

    settings: Settings
    knowledge: Knowledge
    store: Store
    registry: ServiceRegistry
    clock: Callable[[], datetime]
    fhir_slots: ServerSlots  # per process: calls fetching from each FHIR server


def state(app: Flask | None = None) -> AppState:
    """The AppState of ``app`` (default: the app handling the current request)."""
    target = app if app is not None else current_app
    app_state: AppState = target.extensions[EXTENSION_KEY]
    return app_state
