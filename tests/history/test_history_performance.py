"""A 3,000-resource chart: the noise is filtered on the raw JSON, never validated.

Speed itself is measured by the benchmark (`make bench`, bench/run.py), not by a timed test; the
figures are in docs/benchmarks.md and docs/therapy-history.md. This checks the mechanism behind it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from history_helpers import NOW, PATIENT

import cds_service.history.parse as fhir_parse
from cds_service.history.build import build_history
from cds_service.knowledge.terminology import Terminology
from fhir_fixtures.record_mix import chart


@pytest.fixture(scope="module")
def big_chart() -> tuple[str, list[dict[str, Any]]]:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in chart(3000)],
    }
    text = json.dumps(bundle)
    return text, [json.loads(text)]


def test_only_what_the_rules_use_is_validated(
    big_chart: tuple[str, list[dict[str, Any]]],
    terminology: Terminology,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    validated: list[str] = []
    real_validate = fhir_parse.validate_resource

    def counting(resource: Any, notes: Any) -> Any:
        validated.append(resource["resourceType"])
        return real_validate(resource, notes)

    monkeypatch.setattr(fhir_parse, "validate_resource", counting)
    history = build_history(big_chart[1], PATIENT, terminology, NOW)
    assert history.unmatched_counts["Observation"] > 2000  # vitals, unrelated labs: not validated
    assert 20 < validated.count("Observation") < 80  # recent labs, newest per concept, weights used
    assert history.latest_weight is not None and history.latest("ck") is not None
