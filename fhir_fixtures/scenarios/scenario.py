"""One acceptance scenario: how its chart is built, what it proves, the cards it must yield."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fhir_fixtures.scenarios.charts import Chart

Build = Callable[[Chart], object]


@dataclass(frozen=True)
class Threshold:
    """For boundary- scenarios: which threshold, which side this fixture falls on, and why."""

    name: str
    value: str
    side: str  # e.g. "fires (at the threshold counts)" / "does not fire"
    why: str  # the reading of the docs, with its section


@dataclass(frozen=True)
class Scenario:
    name: str
    proves: str
    build: Build
    cards: list[dict[str, Any]]
    optional_topics: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()  # local names no card may use as evidence
    threshold: Threshold | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def steps(*functions: Build) -> Build:
    """Compose chart steps: ``steps(seed, lambda c: c.drop("dys"))``."""

    def build(chart: Chart) -> Chart:
        for function in functions:
            function(chart)
        return chart

    return build
