"""Run the whole pipeline once on a synthetic record before serving.

Much of the first call's work is one-off: ``fhir.resources`` builds each model's validator on
first use (an Observation's costs ~250 ms), regular expressions compile, reference tables load.
Under gunicorn this runs in the master before the workers fork (``gunicorn_conf.pre_fork``), so
every worker starts warm and shares those pages, and ``gc.freeze()`` then puts them out of the
collector's reach. Without it each worker's first calls are slow: the p99 a clinician sees.

``warmup_record.json`` is a synthetic child (``bench/generate.py``, 120 resources, dated around
:data:`WARMUP_NOW`), not a patient.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from cds_service.pipeline import evaluate
from cds_service.web.openapi import validate
from cds_service.web.state import state

log = logging.getLogger(__name__)

RECORD_PATH = Path(__file__).with_name("warmup_record.json")
WARMUP_NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
WARMUP_PATIENT = "warmup"


def warm_up(app: Flask) -> list[str]:
    """Evaluate the warm-up record with the app's knowledge; return the card topics it gave."""
    app_state = state(app)
    record: dict[str, Any] = json.loads(RECORD_PATH.read_text(encoding="utf-8"))
    started = time.perf_counter()
    request = {
        "hook": "patient-view",
        "hookInstance": "00000000-0000-4000-8000-000000000000",
        "context": {"userId": "Practitioner/warmup", "patientId": WARMUP_PATIENT},
        "prefetch": {"record": record},
    }
    validate(request, "HookRequest")
    evaluation = evaluate(
        [record],
        WARMUP_PATIENT,
        app_state.knowledge,
        WARMUP_NOW,
        public_base_url=app_state.settings.public_base_url,
    )
    topics = [str(card["source"]["topic"]["code"]) for card in evaluation.cards]
    log.info("pipeline warmed up in %.0f ms", (time.perf_counter() - started) * 1000)
    return topics
