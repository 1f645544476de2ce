"""The JSON log format: one object per line, URL paths cut from other libraries' messages,
exceptions written without their message."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from cds_service.web.logging_setup import configure_logging, redact_url_paths


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging("DEBUG", stream)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_audit_fields(log_stream: io.StringIO) -> None:
    logging.getLogger("cds_service.web.audit").info(
        "request", extra={"audit": {"status": 200, "cards_by_topic": {"ivig": 1}}}
    )
    (entry,) = lines(log_stream)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "cds_service.web.audit"
    assert entry["status"] == 200
    assert entry["cards_by_topic"] == {"ivig": 1}


def test_other_libraries_lose_url_paths_and_queries(log_stream: io.StringIO) -> None:
    # the shape of urllib3's own debug line for a FHIR call
    logging.getLogger("urllib3.connectionpool").warning(
        '%s://%s:%s "%s %s %s" %s %s',
        "http", "127.0.0.1", 8080, "GET", "/fhir/Observation?patient=pat-SECRET&_count=200",
        "HTTP/1.1", 200, 512,
    )  # fmt: skip
    logging.getLogger("gunicorn.access").warning(
        'POST /cds-services/x?name=Jane "http://ehr.example/fhir/Patient/pat-SECRET"'
    )
    text = log_stream.getvalue()
    assert "pat-SECRET" not in text
    assert "Jane" not in text
    first, second = lines(log_stream)
    assert first["msg"] == 'http://127.0.0.1:8080 "GET /<path> HTTP/1.1" 200 512'
    assert second["msg"] == 'POST /<path> "http://ehr.example/<path>"'


def test_exceptions_are_logged_by_type_and_place_never_message(log_stream: io.StringIO) -> None:
    try:
        raise ValueError("birthDate 2014-02-03 of Jane Smith is invalid")
    except ValueError:
        logging.getLogger("cds_service.web.hooks").exception("parse failed")
    (entry,) = lines(log_stream)
    assert entry["exc_type"] == "ValueError"
    assert any("test_logging_setup.py" in frame for frame in entry["exc_where"])  # type: ignore[attr-defined]
    assert "Jane" not in log_stream.getvalue()
    assert "2014-02-03" not in log_stream.getvalue()


def test_configure_twice_does_not_double_lines(log_stream: io.StringIO) -> None:
    configure_logging("INFO", log_stream)
    logging.getLogger("cds_service").info("once")
    assert len(lines(log_stream)) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Starting new HTTPS connection (1): fhir.example:443", "unchanged"),
        ("GET https://h.example/fhir/Patient/9 -> 200", "GET https://h.example/<path> -> 200"),
        ("Listening at: http://127.0.0.1:8080 (42)", "unchanged"),
        ("url=/fhir/Patient?identifier=MRN123", "url=/<path>"),
    ],
)
def test_redaction_keeps_hosts_and_drops_paths(text: str, expected: str) -> None:
    assert redact_url_paths(text) == (text if expected == "unchanged" else expected)
