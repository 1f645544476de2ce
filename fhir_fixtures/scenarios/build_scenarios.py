"""Write the clinical acceptance scenarios: per scenario a folder with

* ``request.json``  — a CDS Hooks ``patient-view`` call of ``jdm-ivig`` with a full prefetch
  (searchset Bundles keyed like the service's prefetch templates), as an EHR sends it;
* ``bundle.json``   — the same resources as a transaction Bundle (PUT by id), for loading into a
  FHIR server and exercising the fetch path (malformed resources, which a server would reject,
  are left out and listed in expected.json's ``prefetchOnly``);
* ``expected.json`` — the cards the clinical docs call for, written by hand in ``specs_*.py``.

The order-time scenarios (``specs_orders.py``) are written under ``orders/`` (``build_orders.py``).

Also ``README.md``: README.head.md plus a generated table of the scenarios.

Usage, from the repository root: ``python -m fhir_fixtures.scenarios.build_scenarios`` (rewrites
every folder; a folder of a scenario that no longer exists is removed). ``--check`` exits 1 when
the files on disk differ.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fhir_fixtures import builders as b
from fhir_fixtures.scenarios import (
    build_orders,
    specs_core,
    specs_judgement,
    specs_later,
    specs_more,
    specs_real,
    specs_safety,
    specs_scope,
    specs_stale,
    specs_trial,
    specs_tried,
)
from fhir_fixtures.scenarios.charts import Chart
from fhir_fixtures.scenarios.fhir_builders import NOW
from fhir_fixtures.scenarios.scenario import Scenario

HERE = Path(__file__).resolve().parent

from cds_service.gather.registry import SCORE_CATEGORIES, SCORES_KEY  # noqa: E402

SERVICE_ID = "jdm-ivig"
PRACTITIONER = "Practitioner/prac-rheum-1"
# prefetch key of each FHIR resource type (cds_service/gather/registry.py jdm_ivig_prefetch)
PREFETCH_KEYS = {
    "Patient": "patient",
    "Condition": "conditions",
    "MedicationRequest": "medicationRequests",
    "MedicationAdministration": "medicationAdministrations",
    "MedicationStatement": "medicationStatements",
    "Observation": "observations",
    "Procedure": "procedures",
    "Immunization": "immunizations",
    "AllergyIntolerance": "allergies",
}
CARD_KEYS_WITH_LOCAL_IDS = ("evidence", "evidenceAbsent", "matchedByName")


def all_scenarios() -> list[Scenario]:
    scenarios = [
        *specs_core.SCENARIOS,
        *specs_safety.SCENARIOS,
        *specs_later.SCENARIOS,
        *specs_more.SCENARIOS,
        *specs_real.SCENARIOS,
        *specs_trial.SCENARIOS,
        *specs_judgement.SCENARIOS,
        *specs_scope.SCENARIOS,
        *specs_stale.SCENARIOS,
        *specs_tried.SCENARIOS,
    ]
    names = [s.name for s in scenarios]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise SystemExit(f"duplicate scenario names: {sorted(duplicates)}")
    return scenarios


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return b.searchset(resources, b.stable_urn)


def hook_request(chart: Chart, scenario: Scenario | None = None) -> dict[str, Any]:
    """The patient-view request. The chart's own Patient goes under `patient`; every other
    resource (another patient's too: EHR filters are not to be trusted) under its type's key,
    and the Observations of the assessment categories also under the score key, as the search
    by category returns them."""
    prefetch: dict[str, Any] = {}
    patient = next(r for r in chart.resources if r.get("id") == chart.pid)
    prefetch["patient"] = patient
    sent = [*chart.resources, *chart.prefetch_versions]
    for resource_type, key in PREFETCH_KEYS.items():
        if key == "patient":
            continue
        prefetch[key] = searchset([r for r in sent if r["resourceType"] == resource_type])
        if resource_type == "Observation":
            prefetch[SCORES_KEY] = searchset([r for r in sent if _in_score_categories(r)])
    request = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid5(uuid.NAMESPACE_URL, f"jdm-cds/scenario/{chart.scenario}")),
        "context": {"userId": PRACTITIONER, "patientId": chart.pid},
        "prefetch": prefetch,
    }
    # a scenario about the request's own shape (a client's prefetch as it sends it) reshapes it
    reshape = None if scenario is None else scenario.extra.get("request")
    if reshape is not None:
        request = copy.deepcopy(request)  # the chart's resources also go into bundle.json
        reshape(chart, request)
    return request


def _in_score_categories(resource: dict[str, Any]) -> bool:
    if resource["resourceType"] != "Observation":
        return False
    categories = resource.get("category")
    if not isinstance(categories, list):
        return False
    codings = [
        coding
        for category in categories
        if isinstance(category, dict) and isinstance(category.get("coding"), list)
        for coding in category["coding"]
    ]
    return any(isinstance(c, dict) and c.get("code") in SCORE_CATEGORIES for c in codings)


def transaction(chart: Chart) -> dict[str, Any]:
    skip = {chart.id(name) for name in chart.prefetch_only}
    resources = [r for r in chart.resources if r["id"] not in skip]
    # Patients first so references resolve on servers that check them
    resources.sort(key=lambda r: r["resourceType"] != "Patient")
    return b.transaction(resources, b.resource_url)


def _resolve(chart: Chart, local: str) -> str:
    for resource in chart.resources:
        if resource.get("id") == chart.id(local):
            return f"{resource['resourceType']}/{resource['id']}"
    raise KeyError(f"{chart.scenario}: expected.json names {local!r}, which the chart lacks")


def _resolve_value(chart: Chart, key: str, value: Any) -> Any:
    if key in CARD_KEYS_WITH_LOCAL_IDS:
        return sorted(_resolve(chart, v) for v in value)
    if key == "evidenceAnyOf":
        return [sorted(_resolve(chart, v) for v in group) for group in value]
    if key == "dose" and "weightObservation" in value:
        return value | {"weightObservation": _resolve(chart, value["weightObservation"])}
    return value


def _with_chart_facts(chart: Chart, card: dict[str, Any]) -> dict[str, Any]:
    """Facts the expectation takes from the chart itself: the dosing weight's date, and the date
    the first-line window's 12-week point falls on (first methotrexate dose + 84 days), when a dose
    was given."""
    card = dict(card)
    dose = card.get("dose")
    if isinstance(dose, dict) and "weightObservation" in dose:
        observation = chart.get(dose["weightObservation"])
        card["dose"] = dose | {"weightDate": observation["effectiveDateTime"]}
    mtx_given = any(r.get("id") == chart.id("mtx-1") for r in chart.resources)
    if card["topic"] == "first-line-window" and mtx_given:
        card["mentions"] = [*card.get("mentions", []), [{"date": _twelve_week_point(chart)}]]
    return card


def _twelve_week_point(chart: Chart) -> str:
    """First methotrexate dose + 84 days; for a course stopped (no order, no dose in 14 days),
    84 days less the exposure (first dose to a week after the last) counted from today."""
    doses = sorted(
        datetime.fromisoformat(r["effectiveDateTime"])
        for r in chart.resources
        if r["resourceType"] == "MedicationAdministration"
        and "-mtx-" in r["id"]
        and r.get("status") == "completed"
    )
    first, last = doses[0], doses[-1]
    ordered = any(r["id"] == chart.id("mtx-order") for r in chart.resources)
    if ordered or NOW - last <= timedelta(days=14):
        return (first + timedelta(days=84)).date().isoformat()
    exposure = last + timedelta(days=7) - first
    return (NOW + timedelta(days=84) - exposure).date().isoformat()


def _cards(chart: Chart, cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: _resolve_value(chart, k, v) for k, v in _with_chart_facts(chart, card).items()}
        for card in cards
    ]


def expected(scenario: Scenario, chart: Chart) -> dict[str, Any]:
    cards = _cards(chart, scenario.cards)
    result: dict[str, Any] = {
        "scenario": scenario.name,
        "proves": scenario.proves,
        "patientId": chart.pid,
        "now": NOW.isoformat(),
        "topics": sorted(card["topic"] for card in scenario.cards),
        "optionalTopics": list(scenario.optional_topics),
        "cards": cards,
        "forbiddenResources": sorted(_resolve(chart, name) for name in scenario.forbidden),
        "prefetchOnly": sorted(_resolve(chart, name) for name in chart.prefetch_only),
    }
    # a prefetch-only record the cards of the prefetch path name (the server never holds it)
    prefetch_cards = scenario.extra.get("prefetch_cards")
    if prefetch_cards is not None:
        result["prefetchPath"] = {
            "topics": sorted(card["topic"] for card in prefetch_cards),
            "cards": _cards(chart, prefetch_cards),
        }
    if scenario.threshold is not None:
        result["threshold"] = vars(scenario.threshold)
    return result


def render(scenario: Scenario) -> dict[str, str]:
    chart = Chart(scenario.name)
    scenario.build(chart)
    files = {
        "request.json": hook_request(chart, scenario),
        "bundle.json": transaction(chart),
        "expected.json": expected(scenario, chart),
    }
    return {
        name: json.dumps(body, indent=1, ensure_ascii=False) + "\n" for name, body in files.items()
    }


def readme(scenarios: list[Scenario]) -> str:
    """README.head.md (hand-written) + the table of scenarios, generated so it never goes stale."""
    lines = [(HERE / "README.head.md").read_text().rstrip(), "", "## The scenarios", ""]
    lines += ["| scenario | cards | what it proves |", "|---|---|---|"]
    for scenario in sorted(scenarios, key=lambda s: s.name):
        cards = ", ".join(f"{c['topic']} ({c['indicator']})" for c in scenario.cards) or "none"
        proves = scenario.proves.replace("|", "/")
        if scenario.threshold is not None:
            proves += f" *Threshold: {scenario.threshold.value}, {scenario.threshold.side}.*"
        lines.append(f"| `{scenario.name}` | {cards} | {proves} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when files on disk differ")
    args = parser.parse_args(argv)
    scenarios = all_scenarios()
    stale = []
    for scenario in scenarios:
        folder = HERE / scenario.name
        for name, text in render(scenario).items():
            path = folder / name
            if args.check:
                if not path.exists() or path.read_text() != text:
                    stale.append(str(path.relative_to(HERE)))
                continue
            folder.mkdir(exist_ok=True)
            path.write_text(text)
    stale += build_orders.write_or_check(args.check)
    readme_path, readme_text = HERE / "README.md", readme(scenarios)
    if not args.check:
        readme_path.write_text(readme_text)
    elif not readme_path.exists() or readme_path.read_text() != readme_text:
        stale.append("README.md")
    known = {s.name for s in scenarios}
    for folder in HERE.iterdir():
        if folder.is_dir() and (folder / "expected.json").exists() and folder.name not in known:
            if args.check:
                stale.append(f"{folder.name}/ (no such scenario)")
            else:
                shutil.rmtree(folder)
    if stale:
        print("out of date:", *stale, sep="\n  ")  # noqa: T201
        return 1
    print(f"{len(scenarios)} scenarios {'checked' if args.check else 'written'}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
