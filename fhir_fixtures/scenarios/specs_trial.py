"""Scenarios: where an IVIG trial stands (docs/clinical/decision-model.md §4): courses counted
only from the JDM diagnosis and at roughly the JDM dose, failure judged no earlier than 4 weeks
after the third course and only while strength is not improving, the trend shown."""

from __future__ import annotations

from typing import Any

from fhir_fixtures import builders as b
from fhir_fixtures.builders import Code
from fhir_fixtures.scenarios import expect as x
from fhir_fixtures.scenarios import fhir_builders as fb
from fhir_fixtures.scenarios.charts import Chart, inactive, refractory
from fhir_fixtures.scenarios.fhir_builders import at
from fhir_fixtures.scenarios.scenario import Scenario, Threshold, steps

ESCALATE = x.escalate(
    {"agent": "rituximab", "mgPerM2": "750", "infusions": 2, "intervalDays": 7},
    evidenceAnyOf=[["ivig-1-d1", "ivig-1-d2"]],
)


def _courses(*last_days_ago: int, grams_per_day: float = 26) -> object:
    def step(c: Chart) -> None:
        for n, days_ago in enumerate(last_days_ago, start=1):
            c.ivig_course(f"ivig-{n}", last_days_ago=days_ago, grams_per_day=grams_per_day)

    return step


def _cmas(*values_days_ago: tuple[int, int]) -> object:
    """CMAS scores (value, days ago) in place of the chart's own."""

    def step(c: Chart) -> None:
        c.drop("cmas")
        for n, (value, days_ago) in enumerate(values_days_ago, start=1):
            c.lab(f"cmas-{n}", "cmas", value, days_ago=days_ago)

    return step


def _with_mentions(card: dict[str, Any], *mentions: list[Any]) -> dict[str, Any]:
    return card | {"mentions": [*card.get("mentions", []), *mentions]}


def _refractory_long(c: Chart) -> None:
    refractory(c, mtx_days=280, labs_days_ago=7)


SCENARIOS = [
    Scenario(
        "out-escalate-after-ivig-third-course-3-weeks-ago",
        "3 monthly courses, the third begun 3 weeks ago, still weak, labs last week: too early "
        "to judge the response (4 weeks after the third) -> no escalation, no cards.",
        steps(_refractory_long, _courses(76, 48, 20)),
        [],
    ),
    Scenario(
        "out-escalate-after-ivig-cmas-improving",
        "3 courses, the third 6 weeks ago, still weak but CMAS rising 18 -> 30 -> 44: IVIG is "
        "working, not failing -> no escalation (the trend decides, not the latest value); the "
        "next course is overdue.",
        steps(_refractory_long, _courses(100, 72, 44), _cmas((18, 105), (30, 60), (44, 7))),
        [x.course_due(mentions=[["18"], ["30"], ["44"]])],
    ),
    Scenario(
        "in-escalate-after-ivig-cmas-flat",
        "3 courses, the third 6 weeks ago, CMAS 30 -> 31 -> 32 (less than 3 points): not "
        "improving -> escalate-after-ivig, the trend shown on the card.",
        steps(_refractory_long, _courses(100, 72, 44), _cmas((30, 105), (31, 60), (32, 7))),
        [ESCALATE | {"mentions": [["30"], ["31"], ["32"]]}],
        threshold=Threshold(
            "CMAS improving",
            "3 points",
            "not improving (a rise of 2)",
            "docs/clinical/decision-model.md §4.",
        ),
    ),
    Scenario(
        "in-ivig-start-itp-courses-before-jdm",
        "Three 15 g IVIG doses for immune thrombocytopenia years before JDM (0.6 g/kg): not a "
        "JDM trial, not counted -> ivig-start (a fresh start), the old courses named as not "
        "counted.",
        steps(refractory, _courses(2000, 1972, 1944, grams_per_day=7.5)),
        [x.ivig_start(mentions=[["not counted"]])],
    ),
]


def _methotrexate_stopped(first_days_ago: int, last_days_ago: int) -> object:
    """Weekly methotrexate from `first_days_ago`, stopped after the dose `last_days_ago` ago (the
    order ended, later doses never given)."""

    def step(c: Chart) -> None:
        refractory(c, mtx_days=first_days_ago)
        c.drop("mtx-order")
        for n, days_ago in enumerate(range(first_days_ago, 0, -7), start=1):
            if days_ago < last_days_ago:
                c.drop(f"mtx-{n}")

    return step


SCENARIOS += [
    Scenario(
        "in-ivig-start-methotrexate-stopped",
        "Methotrexate for 20 weeks, stopped 4 weeks ago, still weak: the trial was adequate "
        "(exposure counts to the stop: 21 weeks) -> ivig-start, naming methotrexate as stopped "
        "and asking whether to restart it.",
        _methotrexate_stopped(168, 28),
        [x.ivig_start(mentions=[["stopped"], ["restart"]])],
    ),
    Scenario(
        "out-ivig-start-methotrexate-stopped-early",
        "Methotrexate started 18 weeks ago but stopped 10 weeks ago (9 weeks of exposure), still "
        "weak: not an adequate trial (12 weeks) although it began 18 weeks ago -> no ivig-start; "
        "the first-line window names methotrexate as stopped and counts the 12 weeks from a "
        "restart today.",
        _methotrexate_stopped(126, 70),
        [
            _with_mentions(x.first_line_window(), ["stopped"], ["restart"], ["9.0 weeks"])
            | {"evidenceAnyOf": [["mtx-1"]]}  # the order ended: only the doses are evidence
        ],
    ),
]

SCENARIOS += [
    Scenario(
        "out-ivig-course-due-disease-inactive",
        "One IVIG course 9 weeks ago and the disease now inactive (weakness resolved, CMAS 50): "
        "no next course is asked for -> no cards.",
        steps(lambda c: inactive(c, mtx_days=280), _courses(62)),
        [],
    ),
]


def _rituximab_given(*days_ago: int) -> object:
    """Rituximab infusions (750 mg/m2 at 1.04 m2: 780 mg) given `days_ago` days ago."""

    def step(c: Chart) -> None:
        for n, ago in enumerate(days_ago, start=1):
            c.add(
                b.medication_administration(
                    c.id(f"rtx-{n}"),
                    c.pid,
                    fb.concept([Code(fb.RXNORM, "121191", "rituximab")]),
                    effective=at(days_ago=ago),
                    status="completed",
                    dosage=b.administration_dosage(
                        route=fb.concept([fb.ROUTES["iv"]]), dose=fb.quantity(780, "mg")
                    ),
                )
            )

    return step


SCENARIOS += [
    Scenario(
        "in-timeline-rituximab-already-given",
        "IVIG failing, and rituximab given twice about two months ago: the therapy so far names "
        "it with its doses and dates, and the escalation card says rituximab was already given "
        "before it offers a repeat course (what was already tried is on the card).",
        steps(_refractory_long, _courses(100, 72, 44), _rituximab_given(63, 56)),
        [ESCALATE | {"mentions": [["Rituximab 780 mg, 2 dose(s) given"], ["already been given"]]}],
    ),
]
