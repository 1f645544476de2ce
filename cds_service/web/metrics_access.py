"""Who may read ``/metrics`` (``CDS_METRICS_ACCESS``): the counts name card topics and show
how busy the service is, which is nobody else's business.

- ``loopback`` (default): a client on 127.0.0.1 / ::1 whose request came through no proxy. A
  request a reverse proxy forwards arrives from loopback too, so one carrying
  ``X-Forwarded-For`` or ``Forwarded`` is not taken as local; refused with 403.
- ``any``: every client (a scraper on another host; keep the port off the public network).
- ``off``: ``/metrics`` answers 404.
"""

from __future__ import annotations

import ipaddress

from flask import request
from werkzeug.exceptions import NotFound

from cds_service.config import SettingsError
from cds_service.errors import ForbiddenError

ACCESS_CHOICES = ("loopback", "any", "off")
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded")


def check_metrics_access(access: str) -> None:
    """SettingsError at startup for a value that is not one of the choices."""
    if access not in ACCESS_CHOICES:
        raise SettingsError(
            f"CDS_METRICS_ACCESS: {access!r} is not one of {', '.join(ACCESS_CHOICES)}"
        )


def guard_metrics(access: str) -> None:
    """Return when this request may read the metrics; else 404 (off) or 403 (not loopback)."""
    if access == "any":
        return
    if access == "off":
        raise NotFound()  # as if there were no such path (answered as JSON, web/errors.py)
    if not _is_loopback(request.remote_addr) or any(h in request.headers for h in PROXY_HEADERS):
        raise ForbiddenError(
            "/metrics is served to loopback clients only (CDS_METRICS_ACCESS=loopback)"
        )


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
