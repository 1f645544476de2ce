"""CORS on every path and every answer (browsers call services directly from SMART apps and the
CDS Hooks Sandbox), and which browser origins may call.

With auth on, every origin may call (``*``): each call needs a token a page cannot make. With
auth off (``make run``), any web page a clinician or developer opens could otherwise drive the
service, and through it FHIR servers on loopback ports: only the origins of
``CDS_CORS_ORIGINS`` (loopback and the public CDS Hooks Sandbox by default) get CORS headers,
and a request carrying another ``Origin`` is refused with 403 before anything runs. An origin
is matched as a server is (:mod:`cds_service.gather.urls`): no port is the scheme's default,
``:*`` any port. Requests without ``Origin`` (curl, an EHR's back end) are not browsers' and
pass.
"""

from __future__ import annotations

from flask import Flask, Response, request

from cds_service.config import Settings, SettingsError
from cds_service.errors import ForbiddenError
from cds_service.gather import urls

CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}
EVERY_ORIGIN = "*"


class AllowedOrigins:
    """The browser origins that may call; every origin when auth is on or the setting says *."""

    def __init__(self, settings: Settings) -> None:
        self.every = settings.auth_required or EVERY_ORIGIN in settings.cors_origins
        self._entries = [_origin_entry(entry) for entry in settings.cors_origins]

    def allows(self, origin: str) -> bool:
        if self.every:
            return True
        parsed = urls.server_url(origin)
        if parsed is None or parsed.path or origin.count("/") != 2:
            return False  # "null", a path, a user-info trick: not an origin we know
        return any(entry is not None and urls.within(parsed, entry) for entry in self._entries)


def _origin_entry(entry: str) -> urls.ServerUrl | None:
    if entry == EVERY_ORIGIN:
        return None
    parsed = urls.allowlist_entry(entry)
    if parsed is None or parsed.path:
        raise SettingsError(
            f"CDS_CORS_ORIGINS: {entry!r} is not an origin scheme://host[:port|:*] or *"
        )
    return parsed


def install_cors(app: Flask, settings: Settings) -> None:
    """CORS on every path and every answer (errors included); preflight answered before auth;
    a request from an origin not allowed is refused (403) before anything else runs."""
    allowed = AllowedOrigins(settings)

    @app.before_request
    def _origin_and_preflight() -> Response | None:
        origin = request.headers.get("Origin")
        if origin is not None and not allowed.allows(origin):
            raise ForbiddenError(
                "this browser origin may not call the service (CDS_CORS_ORIGINS; auth is off)"
            )
        if request.method == "OPTIONS":
            preflight = Response(status=204)
            del preflight.headers["Content-Type"]
            return preflight
        return None

    @app.after_request
    def _cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if allowed.every:
            response.headers["Access-Control-Allow-Origin"] = EVERY_ORIGIN
        elif origin is not None and allowed.allows(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers.add("Vary", "Origin")
        else:
            response.headers.add("Vary", "Origin")
            if origin is not None:
                return response  # refused above: no CORS headers for it
        response.headers.update(CORS_HEADERS)
        return response
