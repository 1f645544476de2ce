"""The `observations` search at 3,000 resources on sekmet: the value sets' code tokens alone
against the template's tokens (each code also under its system's OID, and the vital-signs panel),
each at the old page size of 200 and at the default (``CDS_FHIR_PAGE_SIZE``), run in turn so the
machine's load falls on all alike (docs/prefetch.md).

    JDM_CDS_SEKMET=.fhir-venv/bin/sekmet .venv/bin/python -m bench.observation_search [repeats]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.generate import generate_record, transaction_bundle
from bench.servers import sekmet
from cds_service.config import Settings
from cds_service.knowledge.codings import VITAL_SIGNS_PANEL, search_tokens
from cds_service.knowledge.loader import load_knowledge
from fhir_fixtures.clocks import SCENARIO_NOW

ROOT = Path(__file__).resolve().parent.parent


def _search(base: str, tokens: list[str], page_size: int) -> tuple[float, int]:
    """Seconds to read every page of the search, and the rows it returned."""
    started, rows = time.perf_counter(), 0
    url: str | None = f"{base}/Observation?patient=bench&code={','.join(tokens)}&_count={page_size}"
    while url:
        page = requests.get(url, timeout=120).json()
        rows += len(page.get("entry", []))
        url = next((ln["url"] for ln in page.get("link", []) if ln["relation"] == "next"), None)
    return time.perf_counter() - started, rows


def main(repeats: int) -> None:
    codes = sorted(set(load_knowledge(ROOT / "cards").terminology.search_codes("Observation")))
    template = search_tokens([*codes, VITAL_SIGNS_PANEL])
    default_page = Settings().fhir_page_size
    # (tokens, _count): the old page size of 200 beside the default, for both token lists
    variants = {
        "value sets only, _count=200": (codes, 200),
        "template, _count=200": (template, 200),
        f"value sets only, _count={default_page}": (codes, default_page),
        f"template, _count={default_page}": (template, default_page),
    }
    with sekmet(Path(tempfile.mkdtemp())) as server:
        record = transaction_bundle(generate_record(3000, SCENARIO_NOW))
        requests.post(server.base_url, json=record, timeout=600).raise_for_status()
        times: dict[str, list[float]] = {name: [] for name in variants}
        rows: dict[str, int] = {}
        for _ in range(repeats):
            for name, (tokens, page_size) in variants.items():
                seconds, rows[name] = _search(server.base_url, tokens, page_size)
                times[name].append(seconds)
    for name, (tokens, _) in variants.items():
        median, fastest = statistics.median(times[name]) * 1000, min(times[name]) * 1000
        print(
            f"{name}: {len(tokens)} tokens, {rows[name]} rows, "
            f"median {median:.0f} ms, fastest {fastest:.0f} ms"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
