"""WSGI entry point for gunicorn (``cds_service.serving.wsgi:app``): settings from ``CDS_*``.

Logging is set up here, before the app is built, so that everything the service logs in
production is one PHI-free JSON line (:mod:`cds_service.web.logging_setup`).
"""

from __future__ import annotations

import os

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.web.logging_setup import configure_logging

settings = Settings.from_env(os.environ)
configure_logging(settings.log_level)
app = create_app(settings)
