"""Logging: one JSON object per line, and no PHI or tokens in any of them.

The service's own log calls (loggers under ``cds_service``) are written to carry no patient data:
ids of things we made (hookInstance, card uuids), counts, timings, statuses, reasons. Other
libraries log what they like: urllib3 logs each URL it fetches (``/fhir/Patient/<id>``), servers log
request lines. So for every logger outside ``cds_service``, URL paths and query strings are cut
from the message before it is written. Exceptions are written as their type and where they were
raised (file, line, function), never their message: a parser's error message can quote the
resource it failed on.

``configure_logging(level)`` sets this up on the root logger (the app calls it once; gunicorn uses
:func:`gunicorn_logconfig_dict` so its own loggers go through the same formatter).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

OWN_LOGGER_PREFIX = "cds_service"
AUDIT_ATTRIBUTE = "audit"
MAX_FRAMES = 12

# A path (and query) after a scheme://host[:port], or a path that starts a token
# ("GET /fhir/Patient/1 HTTP/1.1"). "HTTP/1.1" is left alone: its slash follows a letter.
_URL_PATH = re.compile(
    r"(?P<origin>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s\"'?#]+)(?P<path>[/?#][^\s\"']*)?"
    r"|(?:(?<=^)|(?<=[\s\"'(\[=]))(?P<bare>/[^\s\"']*)"
)


def redact_url_paths(text: str) -> str:
    """Keep scheme://host:port, drop paths and queries.

    >>> redact_url_paths('GET http://127.0.0.1:9/fhir/Patient/p1?_count=5 "POST /a/b HTTP/1.1"')
    'GET http://127.0.0.1:9/<path> "POST /<path> HTTP/1.1"'
    """

    def replace(match: re.Match[str]) -> str:
        if match.group("origin"):
            return match.group("origin") + ("/<path>" if match.group("path") else "")
        return "/<path>"

    return _URL_PATH.sub(replace, text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, plus a record's `audit` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": _message(record),
        }
        audit_fields = getattr(record, AUDIT_ATTRIBUTE, None)
        if isinstance(audit_fields, dict):
            entry.update(audit_fields)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["exc_where"] = _frames(record.exc_info[2])
        return json.dumps(entry, default=str, separators=(",", ":"))


def _message(record: logging.LogRecord) -> str:
    try:
        text = record.getMessage()
    except (TypeError, ValueError):
        text = str(record.msg)
    if record.name == OWN_LOGGER_PREFIX or record.name.startswith(OWN_LOGGER_PREFIX + "."):
        return text
    return redact_url_paths(text)


def _frames(trace: Any) -> list[str]:
    frames = traceback.extract_tb(trace)[-MAX_FRAMES:]
    return [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames]


# Third-party loggers that log each request or URL at INFO/DEBUG. They still go through the
# redacting formatter; their level is also raised so a DEBUG setting does not flood the log.
NOISY_LOGGERS = ("urllib3", "requests", "werkzeug", "charset_normalizer")


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record to `stream` (stderr) as one JSON line; idempotent."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        # ours from an earlier call, or gunicorn's dictConfig one: replaced, never doubled
        if isinstance(handler.formatter, JsonFormatter):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    noisy_level = max(logging.getLevelName(level.upper()), logging.INFO)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(noisy_level)
    # gunicorn's loggers have their own handlers; they take ours via gunicorn_logconfig_dict()


def gunicorn_logconfig_dict(level: str = "INFO") -> dict[str, Any]:
    """`logconfig_dict` for gunicorn: its error and access logs as redacted JSON on stderr."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"json": handler},
        "root": {"level": level.upper(), "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            # the app writes one audit line per request; gunicorn's access line would be a second
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }
