"""The feedback summary over many distinct override reason codes: does it stay fast?

``codes`` cards are recorded as issued (each offering its own override reason code, as a hook
call would record them) and each is overridden with that reason, straight into a fresh store
(SQLite by default, or ``database_url``). Then the production server (gunicorn with the repo's
config, auth off, that store) answers ``GET /cds-services/jdm-ivig/feedback/summary`` a few
times; reported: the median and slowest answer, the size of the answer and the seeding time.
Before the summary was counted in the database, each row searched the reasons already listed:
40,000 codes took 104-143 s per GET. Target: <= 200 ms. The machine's load average is printed
with the figures: the bench shares its cores with whatever else runs.

Run as ``python -m bench.boundaries summary`` (see bench/boundaries.py).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench import servers
from cds_service.store.database import open_store
from cds_service.store.records import FeedbackOutcome, IssuedCard, OfferedReason

SERVICE = "jdm-ivig"
REASON_SYSTEM = "https://jdm-cds.example.org/fhir/CodeSystem/override-reason"
BATCH = 1_000
TARGET_MS = 200.0
TIMED_GETS = 10


def seed(database_url: str, codes: int, now: datetime) -> None:
    """`codes` issued cards of one topic, each overridden with a reason code of its own."""
    store = open_store(database_url)
    try:
        for start in range(0, codes, BATCH):
            cards = [
                IssuedCard(
                    str(uuid.uuid4()),
                    "ivig-start",
                    reasons=(OfferedReason(REASON_SYSTEM, f"reason-{n:06d}", f"Reason {n}"),),
                )
                for n in range(start, min(start + BATCH, codes))
            ]
            store.record_issued_cards(cards, SERVICE, now)
            store.record_feedback([_overridden(card, now) for card in cards], now)
    finally:
        store.close()


def _overridden(card: IssuedCard, now: datetime) -> FeedbackOutcome:
    reason = card.reasons[0]
    return FeedbackOutcome(
        card_uuid=card.card_uuid,
        service_id=SERVICE,
        topic=card.topic,
        outcome="overridden",
        accepted_suggestions=(),
        override_reason_code=reason.code,
        override_reason_display=reason.display,
        user_comment_present=False,
        outcome_timestamp=now - timedelta(minutes=1),
    )


@contextmanager
def summary_server(database_url: str) -> Iterator[servers.Running]:
    """gunicorn with the shipped config on a free loopback port, auth off, on `database_url`."""
    port = servers.free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDS_", "PROMETHEUS_"))}
    env.update(
        CDS_HOST="127.0.0.1",
        CDS_PORT=str(port),
        CDS_PUBLIC_BASE_URL=base_url,
        CDS_DATABASE_URL=database_url,
        CDS_AUTH_REQUIRED="false",
        CDS_WORKERS="1",
        CDS_LOG_LEVEL="WARNING",
    )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    argv = [str(gunicorn), "-c", "cds_service/serving/gunicorn_conf.py"]
    with servers.serve(argv, env, f"{base_url}/healthz", base_url, servers.ROOT) as running:
        yield running


def run_summary_scale(
    folder: Path, *, codes: int, database_url: str | None = None
) -> dict[str, Any]:
    url = database_url or f"sqlite:///{folder / 'summary.sqlite3'}"
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    seed(url, codes, now)
    seed_s = time.perf_counter() - started
    backend = url.split(":", 1)[0]
    with summary_server(url) as running, requests.Session() as session:
        summary_url = f"{running.base_url}/cds-services/{SERVICE}/feedback/summary"
        first = session.get(summary_url, timeout=300)  # warms the worker and the page cache
        first.raise_for_status()
        listed = [r for t in first.json()["topics"] for r in t.get("overrideReasons", ())]
        ordered = [(-r["count"], r["code"]) for r in listed]
        times = []
        for _ in range(TIMED_GETS):
            began = time.perf_counter()
            response = session.get(summary_url, timeout=300)
            response.raise_for_status()
            times.append((time.perf_counter() - began) * 1000)
    return {
        "bench": "feedback summary over distinct override reason codes",
        "database": backend,
        "codes_stored": codes,
        "reasons_in_summary": len(listed),
        "reasons_in_order": ordered == sorted(ordered),
        "summary_bytes": len(first.content),
        "seed_s": round(seed_s, 1),
        "gets_timed": TIMED_GETS,
        "median_ms": round(statistics.median(times), 1),
        "slowest_ms": round(max(times), 1),
        "target_ms": TARGET_MS,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
