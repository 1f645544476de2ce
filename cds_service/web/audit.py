"""The audit line: one structured log record per HTTP request, free of PHI.

Fields: ``event`` ("request"), ``method``, ``route`` (the matched URL rule, e.g.
``/cds-services/<service_id>``, never the raw path a client sent), ``service`` (a registered
service id only), ``hookInstance``, ``status``, ``duration_ms``, ``auth`` ("off", "ok",
"refused"), ``cards_by_topic`` ({topic code: count}), ``fhir_calls`` (resource type, HTTP status
or failure kind, milliseconds; never a URL, which carries patient ids), ``gather_notes`` (count).

The HTTP layer fills the record of the current request through :func:`current_audit`; FHIR
calls made on worker threads are recorded on the same object (appends are thread-safe).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, g, has_app_context, request

log = logging.getLogger(__name__)
_G_KEY = "jdm_cds_audit"


@dataclass
class RequestAudit:
    started_s: float = field(default_factory=time.perf_counter)
    service: str | None = None
    hook_instance: str | None = None
    auth: str = "off"
    cards_by_topic: dict[str, int] = field(default_factory=dict)
    gather_notes: int = 0
    fhir_calls: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_fhir_call(self, resource_type: str, outcome: str | int, duration_ms: float) -> None:
        """`outcome` is the HTTP status, or a failure kind such as "timeout" or "refused"."""
        call = {"resource": resource_type, "outcome": outcome, "ms": round(duration_ms, 1)}
        with self._lock:
            self.fhir_calls.append(call)

    def record_cards(self, cards: Iterable[Mapping[str, Any]]) -> None:
        topics = Counter(_topic_code(card) for card in cards)
        self.cards_by_topic = dict(sorted(topics.items()))

    def fields(self, status: int, method: str, route: str) -> dict[str, Any]:
        with self._lock:
            calls = list(self.fhir_calls)
        return {
            "event": "request",
            "method": method,
            "route": route,
            "service": self.service,
            "hookInstance": self.hook_instance,
            "status": status,
            "duration_ms": round((time.perf_counter() - self.started_s) * 1000, 1),
            "auth": self.auth,
            "cards_by_topic": self.cards_by_topic,
            "fhir_calls": calls,
            "gather_notes": self.gather_notes,
        }


def _topic_code(card: Mapping[str, Any]) -> str:
    source = card.get("source")
    topic = source.get("topic") if isinstance(source, Mapping) else None
    code = topic.get("code") if isinstance(topic, Mapping) else None
    return code if isinstance(code, str) else "none"


def current_audit() -> RequestAudit | None:
    """The audit record of the request being served, if any (None outside a request)."""
    if not has_app_context():
        return None
    audit = g.get(_G_KEY)
    return audit if isinstance(audit, RequestAudit) else None


def install_audit(app: Flask) -> None:
    """Start a record before each request and write it as one log line after it."""

    def start() -> None:
        setattr(g, _G_KEY, RequestAudit())

    def finish(response: Response) -> Response:
        audit = current_audit()
        if audit is not None:
            route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
            fields = audit.fields(response.status_code, request.method, route)
            log.info("request", extra={"audit": fields})
        return response

    # first in line, so the record exists before auth or anything else runs
    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.after_request(finish)
