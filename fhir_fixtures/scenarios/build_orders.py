"""Write the order-time scenarios (specs_orders.py) under ``fhir_fixtures/scenarios/orders/``.

Per scenario: ``request.json`` (an ``order-sign`` / ``order-select`` call with the chart's full
prefetch and ``context.draftOrders``), ``bundle.json`` (the chart as a transaction Bundle, for
the fetch path) and ``expected.json`` (the cards, written by hand in specs_orders.py). Run by
``python -m fhir_fixtures.scenarios.build_scenarios`` (``--check`` included).
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from cds_service.gather.registry import SCORES_KEY
from fhir_fixtures.scenarios.charts import Chart
from fhir_fixtures.scenarios.fhir_builders import NOW
from fhir_fixtures.scenarios.specs_orders import SCENARIOS, OrderScenario

HERE = Path(__file__).resolve().parent / "orders"
SERVICES = {"order-sign": "jdm-order-sign", "order-select": "jdm-order-select"}


def render(scenario: OrderScenario) -> dict[str, str]:
    from fhir_fixtures.scenarios.build_scenarios import hook_request, transaction

    chart = Chart(scenario.name)
    scenario.build(chart)
    orders = [build(chart) for build in scenario.orders]
    request = hook_request(chart)
    request["prefetch"].pop(SCORES_KEY, None)
    request["hook"] = scenario.hook
    request["hookInstance"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"jdm-cds/order/{chart.scenario}"))
    context: dict[str, Any] = dict(request["context"])
    context["draftOrders"] = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": order} for order in orders],
    }
    if scenario.selections:
        context["selections"] = [
            f"MedicationRequest/{chart.id(local)}" for local in scenario.selections
        ]
    request["context"] = context
    expected: dict[str, Any] = {
        "scenario": scenario.name,
        "proves": scenario.proves,
        "service": SERVICES[scenario.hook],
        "patientId": chart.pid,
        "now": NOW.isoformat(),
        "cards": [_with_ids(card, chart) for card in scenario.cards],
    }
    if scenario.threshold is not None:
        expected["threshold"] = vars(scenario.threshold)
    files = {"request.json": request, "bundle.json": transaction(chart), "expected.json": expected}
    return {
        name: json.dumps(body, indent=1, ensure_ascii=False) + "\n" for name, body in files.items()
    }


def _with_ids(card: dict[str, Any], chart: Chart) -> dict[str, Any]:
    """The card's local names (its order, its evidence) as the chart's resource ids."""
    ids = {"order": chart.id(card["order"])}
    if "evidence" in card:
        ids["evidence"] = [chart.id(local) for local in card["evidence"]]
    return card | ids


def readme() -> str:
    lines = [
        "# Order-time scenarios",
        "",
        "Written by `python -m fhir_fixtures.scenarios.build_scenarios` from `specs_orders.py`;",
        "run by `tests/test_order_scenarios.py` through the prefetch and the fetch path.",
        "",
        "| scenario | cards | what it proves |",
        "|---|---|---|",
    ]
    for scenario in sorted(SCENARIOS, key=lambda s: s.name):
        cards = ", ".join(f"{c['topic']} ({c['indicator']})" for c in scenario.cards) or "none"
        lines.append(f"| `{scenario.name}` | {cards} | {scenario.proves.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def write_or_check(check: bool) -> list[str]:
    """Write every order scenario (or, with ``check``, list the files that differ)."""
    stale: list[str] = []
    names = [s.name for s in SCENARIOS]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate order scenario names")
    for scenario in SCENARIOS:
        folder = HERE / scenario.name
        for name, text in render(scenario).items():
            path = folder / name
            if check:
                if not path.exists() or path.read_text() != text:
                    stale.append(f"orders/{scenario.name}/{name}")
                continue
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    readme_path = HERE / "README.md"
    if check:
        if not readme_path.exists() or readme_path.read_text() != readme():
            stale.append("orders/README.md")
    else:
        readme_path.write_text(readme())
    if HERE.exists():
        for folder in HERE.iterdir():
            if folder.is_dir() and folder.name not in names:
                if check:
                    stale.append(f"orders/{folder.name}/ (no such scenario)")
                else:
                    shutil.rmtree(folder)
    return stale
