"""WSGI entry point for gunicorn (``cds_service.wsgi:app``): settings from ``CDS_*`` variables."""

from __future__ import annotations

from cds_service import create_app

app = create_app()
