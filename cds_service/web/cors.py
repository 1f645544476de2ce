"""CORS on every path and every answer (browsers call services directly from SMART apps and the
CDS Hooks Sandbox)."""

from __future__ import annotations

from flask import Flask, Response, request

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


def install_cors(app: Flask) -> None:
    """CORS on every path and every answer (errors included); preflight answered before auth."""

    @app.before_request
    def _preflight() -> Response | None:
        if request.method == "OPTIONS":
            preflight = Response(status=204)
            del preflight.headers["Content-Type"]
            return preflight
        return None

    @app.after_request
    def _cors(response: Response) -> Response:
        response.headers.update(CORS_HEADERS)
        return response
