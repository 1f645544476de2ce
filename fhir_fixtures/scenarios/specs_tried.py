"""Scenarios: what was already tried (docs/clinical/decision-model.md §4, "What was already
tried"): an escalation option the record shows was already given says so, with its doses and
dates, and an agent not given (a dose not given, eye drops) leaves the option as it is.

Dates in the expectations are the fixtures' clock (2026-03-15) less the days the chart puts them
back, worked out here, never read from the service's output.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fhir_fixtures import builders as b
from fhir_fixtures.builders import Code
from fhir_fixtures.scenarios import expect as x
from fhir_fixtures.scenarios import fhir_builders as fb
from fhir_fixtures.scenarios.charts import Chart, inactive, refractory
from fhir_fixtures.scenarios.fhir_builders import NOW, at
from fhir_fixtures.scenarios.scenario import Scenario, Threshold, steps

CICLOSPORIN = Code(fb.RXNORM, "3008", "cyclosporine")
CYCLOPHOSPHAMIDE = Code(fb.RXNORM, "3002", "cyclophosphamide")
MYCOPHENOLATE = Code(fb.RXNORM, "68149", "mycophenolate mofetil")
OPHTHALMIC = b.ROUTE_OPHTHALMIC.shown_as("Ophthalmic route")

ESCALATE = x.escalate(
    {"agent": "rituximab", "mgPerM2": "750", "infusions": 2, "intervalDays": 7},
    evidenceAnyOf=[["ivig-1-d1", "ivig-1-d2"]],
)


def day_of(days_ago: int) -> str:
    """The calendar date `days_ago` days before the fixtures' clock, as the cards write it."""
    return (NOW - timedelta(days=days_ago)).date().isoformat()


def _with(card: dict[str, Any], **extra: Any) -> dict[str, Any]:
    merged = dict(card)
    for key, value in extra.items():
        merged[key] = [*card.get(key, []), *value] if isinstance(value, list) else value
    return merged


def _ivig_failing(c: Chart) -> None:
    """Methotrexate 40 weeks, three IVIG courses (the third 6 weeks ago), still weak."""
    refractory(c, mtx_days=280, labs_days_ago=7)
    for n, days_ago in enumerate((100, 72, 44), start=1):
        c.ivig_course(f"ivig-{n}", last_days_ago=days_ago, grams_per_day=26)


def _oral_order(
    local: str, code: Code, mg: int, *, start_days_ago: int, end_days_ago: int | None
) -> object:
    """A twice-daily oral order from `start_days_ago` (to `end_days_ago`: completed)."""

    def step(c: Chart) -> None:
        start = at(days_ago=start_days_ago)
        end = at(days_ago=end_days_ago) if end_days_ago is not None else None
        bounds = b.period(start, end)
        c.add(
            b.medication_request(
                c.id(local),
                c.pid,
                fb.concept([code]),
                authored=start,
                status="active" if end is None else "completed",
                dosage=[
                    b.dosage(
                        timing=b.timing(2, 1, "d", bounds=bounds),
                        route=fb.concept([fb.ROUTES["oral"]]),
                        dose=fb.quantity(mg, "mg"),
                    )
                ],
            )
        )

    return step


def _eye_drops(c: Chart) -> None:
    """Ciclosporin eye drops (an ophthalmic route): not systemic therapy."""
    start = at(days_ago=200)
    c.add(
        b.medication_request(
            c.id("csa-eye"),
            c.pid,
            fb.concept([CICLOSPORIN], text="ciclosporin 0.05% eye drops"),
            authored=start,
            status="active",
            dosage=[
                b.dosage(
                    timing=b.timing(2, 1, "d", bounds=b.period(start)),
                    route=fb.concept([OPHTHALMIC]),
                )
            ],
        )
    )


def _reported(local: str, code: Code, mg: int, *, start_days_ago: int) -> object:
    """Use reported by the family or another hospital (a MedicationStatement), still taken."""

    def step(c: Chart) -> None:
        c.add(
            b.medication_statement(
                c.id(local),
                c.pid,
                fb.concept([code]),
                status="active",
                effective_period=b.period(at(days_ago=start_days_ago)),
                dosage=[
                    b.dosage(
                        timing=b.timing(2, 1, "d"),
                        route=fb.concept([fb.ROUTES["oral"]]),
                        dose=fb.quantity(mg, "mg"),
                    )
                ],
            )
        )

    return step


def _cyclophosphamide(*days_ago: int, mg: int = 700, status: str = "completed") -> object:
    """IV cyclophosphamide pulses (`mg` each) given `days_ago` days ago."""

    def step(c: Chart) -> None:
        for n, ago in enumerate(days_ago, start=1):
            c.add(
                b.medication_administration(
                    c.id(f"cyc-{n}"),
                    c.pid,
                    fb.concept([CYCLOPHOSPHAMIDE]),
                    effective=at(days_ago=ago),
                    status=status,
                    dosage=b.administration_dosage(
                        route=fb.concept([fb.ROUTES["iv"]]), dose=fb.quantity(mg, "mg")
                    ),
                )
            )

    return step


def _ild(c: Chart) -> None:
    c.problem("ild", "ild", days_ago=200)


CYCLOPHOSPHAMIDE_PULSES = (170, 140, 110, 80, 50, 20)

SCENARIOS = [
    Scenario(
        "in-escalate-after-ivig-ciclosporin-tried",
        "IVIG failing, and oral ciclosporin ordered from 200 days ago to 120 days ago: the "
        "ciclosporin option says it was already tried, since when, and to judge its effect "
        "(dose, levels, adherence) before choosing it again.",
        steps(
            _ivig_failing,
            _oral_order("csa", CICLOSPORIN, 75, start_days_ago=200, end_days_ago=120),
        ),
        [
            _with(
                ESCALATE,
                mentions=[
                    ["already tried"],
                    [f"ordered from {day_of(200)}"],
                    ["trough levels"],
                ],
                evidence=["csa"],
            )
        ],
    ),
    Scenario(
        "out-escalate-after-ivig-ciclosporin-eye-drops",
        "IVIG failing, and ciclosporin eye drops on record: a topical product is not systemic "
        "therapy, so the ciclosporin option stands as the standard one (nothing 'already "
        "tried').",
        steps(_ivig_failing, _eye_drops),
        [_with(ESCALATE, notMentions=[["already tried"], ["already given"]])],
        forbidden=("csa-eye",),
    ),
    Scenario(
        "in-escalate-after-ivig-cyclophosphamide-given",
        "IVIG failing in a child without organ disease who had 6 IV cyclophosphamide pulses of "
        "700 mg (the last 20 days ago): the cyclophosphamide option says already given, 6 doses, "
        "the last date and 4.2 g in all, and to judge the cumulative dose before more pulses.",
        steps(_ivig_failing, _cyclophosphamide(*CYCLOPHOSPHAMIDE_PULSES)),
        [
            _with(
                ESCALATE,
                mentions=[
                    ["already given"],
                    [f"6 dose(s) given, last {day_of(20)}"],
                    ["4.2 g in all"],
                    ["cumulative dose"],
                ],
                notMentions=[["already tried"]],
                evidence=["cyc-6"],
            )
        ],
    ),
    Scenario(
        "in-escalate-after-ivig-mycophenolate-reported",
        "IVIG failing, and mycophenolate reported taken (another hospital) since 150 days ago: "
        "the expert-centre options say mycophenolate was already tried, from when; ciclosporin "
        "and cyclophosphamide stay the standard options.",
        steps(_ivig_failing, _reported("mmf", MYCOPHENOLATE, 500, start_days_ago=150)),
        [
            _with(
                ESCALATE,
                mentions=[
                    ["already tried:"],
                    [f"mycophenolate (reported taken from {day_of(150)})"],
                ],
                notMentions=[["already given"]],
                evidence=["mmf"],
            )
        ],
    ),
    Scenario(
        "in-severe-organ-disease-cyclophosphamide-given",
        "Interstitial lung disease, and 6 IV cyclophosphamide pulses of 700 mg already given "
        "(the last 20 days ago): the severe pathway still names IV methylprednisolone with "
        "cyclophosphamide, and says cyclophosphamide was already given (6 doses, the last date, "
        "4.2 g in all) - judge its effect and the cumulative dose with the expert centre before "
        "more pulses.",
        steps(
            lambda c: refractory(c, mtx_days=280),
            _ild,
            _cyclophosphamide(*CYCLOPHOSPHAMIDE_PULSES),
        ),
        [
            x.severe_organ(
                evidence=["ild", "cyc-1", "cyc-6"],
                mentions=[
                    ["interstitial lung disease"],
                    ["cyclophosphamide already given"],
                    [f"6 dose(s) given, last {day_of(20)}"],
                    ["4.2 g in all"],
                    ["cumulative dose"],
                ],
            )
        ],
    ),
    Scenario(
        "out-severe-organ-disease-cyclophosphamide-not-done",
        "Interstitial lung disease, and two cyclophosphamide administrations recorded as not "
        "done: nothing was given, so the severe pathway offers cyclophosphamide as the "
        "standard option (no 'already given').",
        steps(
            lambda c: refractory(c, mtx_days=280),
            _ild,
            _cyclophosphamide(50, 20, status="not-done"),
        ),
        [
            x.severe_organ(
                evidence=["ild"],
                mentions=[["interstitial lung disease"]],
                notMentions=[["already given"]],
            )
        ],
        forbidden=("cyc-1", "cyc-2"),
    ),
]


# --- methotrexate more often than once weekly (docs/clinical/safety.md) ----------------------


def _mtx_schedule(
    frequency: int,
    period: float,
    unit: str,
    *,
    start_days_ago: int,
    end_days_ago: int | None = None,
    local: str = "mtx-order",
    replace_weekly: bool = True,
) -> object:
    """A methotrexate 15 mg order given `frequency` times per `period` `unit`; with
    `replace_weekly` the chart's weekly order and its doses go (the order is all there is)."""

    def step(c: Chart) -> None:
        if replace_weekly:
            c.drop_type("MedicationAdministration", "mtx-")
            c.drop("mtx-order")
        start = at(days_ago=start_days_ago)
        end = at(days_ago=end_days_ago) if end_days_ago is not None else None
        bounds = b.period(start, end)
        c.add(
            b.medication_request(
                c.id(local),
                c.pid,
                fb.concept([fb.AGENT_CODES["methotrexate"]]),
                authored=start,
                status="active" if end is None else "completed",
                dosage=[
                    b.dosage(
                        timing=b.timing(frequency, period, unit, bounds=bounds),
                        route=fb.concept([fb.ROUTES["oral"]]),
                        dose=fb.quantity(15, "mg"),
                    )
                ],
                dispense_request={"validityPeriod": dict(bounds)},
            )
        )

    return step


def _first_line(c: Chart) -> None:
    """Still weak 6 weeks into methotrexate, no red flag: the first-line window."""
    refractory(c, mtx_days=42)


MTX_SCHEDULE_TEXT = [["once weekly"], ["check now", "check the order now"], ["pharmacy"]]


def mtx_schedule(*mentions: list[str], evidence: str = "mtx-order", **extra: Any) -> dict[str, Any]:
    """The methotrexate-schedule card: critical, the schedule and ONCE WEEKLY, its order as
    evidence."""
    return x.card(
        "methotrexate-schedule",
        "critical",
        mentions=[*MTX_SCHEDULE_TEXT, *mentions],
        evidence=[evidence],
        **extra,
    )


NOT_WEEKLY_NOTE = ["more often than once weekly"]
ORDER_ONLY = {"evidenceAnyOf": [["mtx-order"]]}  # the order is the only methotrexate record
FIRST_LINE_NOT_WEEKLY = (
    _with(x.first_line_window(), mentions=[NOT_WEEKLY_NOTE, ["not once weekly"]]) | ORDER_ONLY
)
FIRST_LINE_WEEKLY = (
    _with(x.first_line_window(), notMentions=[NOT_WEEKLY_NOTE, ["not once weekly"]]) | ORDER_ONLY
)


def _boundary(side: str) -> Threshold:
    return Threshold(
        "methotrexate administrations a week",
        "more than 1 (order-checks.json methotrexate.maxAdministrationsPerWeek)",
        side,
        "docs/clinical/safety.md, methotrexate more often than once weekly: once every 7 days is "
        "once weekly; every 6 days or twice a week is more.",
    )


SCENARIOS += [
    Scenario(
        "in-methotrexate-schedule-daily",
        "Methotrexate 15 mg ordered once DAILY for 6 weeks in a child still weak: the critical "
        "methotrexate-schedule card (for JDM it is given ONCE WEEKLY; check the order now), and "
        "the first-line window's 'continue methotrexate' carries the schedule note; the therapy "
        "so far writes the schedule as NOT once weekly.",
        steps(_first_line, _mtx_schedule(1, 1, "d", start_days_ago=42)),
        [
            mtx_schedule(["daily"], [f"since {day_of(42)}"]),
            FIRST_LINE_NOT_WEEKLY,
        ],
    ),
    Scenario(
        "out-methotrexate-schedule-weekly",
        "The same child with methotrexate 15 mg ordered once weekly: no schedule card, and the "
        "first-line window as usual (no note).",
        steps(_first_line, _mtx_schedule(1, 1, "wk", start_days_ago=42)),
        [FIRST_LINE_WEEKLY],
    ),
    Scenario(
        "boundary-methotrexate-schedule-every-7-days",
        "Methotrexate ordered once every 7 days: once weekly, so no schedule card.",
        steps(_first_line, _mtx_schedule(1, 7, "d", start_days_ago=42)),
        [FIRST_LINE_WEEKLY],
        threshold=_boundary("does not fire (once every 7 days is once weekly)"),
    ),
    Scenario(
        "boundary-methotrexate-schedule-every-6-days",
        "Methotrexate ordered once every 6 days: more often than once weekly -> the critical "
        "schedule card.",
        steps(_first_line, _mtx_schedule(1, 6, "d", start_days_ago=42)),
        [mtx_schedule(["every 6 days"]), FIRST_LINE_NOT_WEEKLY],
        threshold=_boundary("fires (every 6 days is more than once a week)"),
    ),
    Scenario(
        "boundary-methotrexate-schedule-twice-a-week",
        "Methotrexate split into two doses a week (as some trials do): still not once weekly -> "
        "the critical schedule card.",
        steps(_first_line, _mtx_schedule(2, 1, "wk", start_days_ago=42)),
        [mtx_schedule(["2 times a week"]), FIRST_LINE_NOT_WEEKLY],
        threshold=_boundary("fires (twice a week is more than once a week)"),
    ),
    Scenario(
        "in-methotrexate-schedule-twice-daily-ivig-start",
        "Refractory after 14 weeks of methotrexate ordered TWICE A DAY: the schedule card first "
        "(critical), and ivig-start's 'continue methotrexate alongside IVIG' carries the "
        "schedule note (the exposure still counts: it was given).",
        steps(refractory, _mtx_schedule(2, 1, "d", start_days_ago=98)),
        [
            mtx_schedule(["2 times a day"]),
            x.ivig_start(mentions=[NOT_WEEKLY_NOTE, ["not once weekly"]], evidence=["mtx-order"]),
        ],
    ),
    Scenario(
        "in-methotrexate-schedule-daily-ended-10-days-ago",
        "A daily methotrexate order that ran from 20 to 10 days ago beside the weekly one: ended "
        "within the last 28 days, so the card still fires in its past form (check what was "
        "taken).",
        steps(
            _first_line,
            _mtx_schedule(
                1,
                1,
                "d",
                start_days_ago=20,
                end_days_ago=10,
                local="mtx-daily",
                replace_weekly=False,
            ),
        ),
        [
            mtx_schedule(
                ["daily"], [f"until {day_of(10)}"], ["check what was taken"], evidence="mtx-daily"
            ),
            _with(x.first_line_window(), mentions=[NOT_WEEKLY_NOTE]),
        ],
    ),
    Scenario(
        "out-methotrexate-schedule-daily-ended-40-days-ago",
        "Weekly methotrexate for 8 weeks, and a daily order beside it from 50 to 40 days ago: "
        "ended past the 28-day window, no schedule card.",
        steps(
            lambda c: refractory(c, mtx_days=56),
            _mtx_schedule(
                1,
                1,
                "d",
                start_days_ago=50,
                end_days_ago=40,
                local="mtx-daily",
                replace_weekly=False,
            ),
        ),
        [_with(x.first_line_window(), notMentions=[NOT_WEEKLY_NOTE])],
    ),
]


# --- methotrexate GIVEN more often than once weekly (docs/clinical/safety.md) -----------------


def _mtx_given(*days_ago: float, keep_weekly: bool = False, keep_order: bool = True) -> object:
    """Methotrexate 15 mg administrations (given) `days_ago`; the chart's weekly doses go unless
    `keep_weekly`, its weekly order unless not `keep_order`."""

    def step(c: Chart) -> None:
        if not keep_weekly:
            c.drop_type("MedicationAdministration", "mtx-")
        if not keep_order:
            c.drop("mtx-order")
        for n, ago in enumerate(days_ago, start=1):
            c.add(fb.mtx_admin(c.id(f"mtx-given-{n}"), c.pid, 15, when=at(days_ago=ago)))

    return step


def given(*locals_: str) -> list[str]:
    return [f"mtx-given-{n}" for n in locals_]


def mtx_given(days_ago: list[int], evidence: list[str]) -> dict[str, Any]:
    """The methotrexate-schedule card for 15 mg doses given `days_ago` (ascending dates): GIVEN
    so many times between the first and last date, ONCE WEEKLY, check now; every dose and its
    date under Why, in date order; the administrations as evidence."""
    first, last = day_of(days_ago[0]), day_of(days_ago[-1])
    return x.card(
        "methotrexate-schedule",
        "critical",
        mentions=[
            [f"methotrexate given {len(days_ago)} times between {first} and {last}"],
            ["once weekly"],
            ["check now"],
            ["pharmacy"],
        ],
        mentionsInOrder=[
            ["once weekly"],
            ["**why**"],
            *([f"15 mg on {day_of(d)}"] for d in days_ago),
        ],
        evidence=evidence,
    )


GIVEN_NOT_WEEKLY = ["not once weekly: given"]


def _given_boundary(side: str) -> Threshold:
    return Threshold(
        "methotrexate administrations within any 7 days",
        "more than 2 (thresholds.json methotrexate_given_max_in_7_days)",
        side,
        "docs/clinical/safety.md, methotrexate more often than once weekly: a weekly dose split "
        "in two, or moved a day or two, puts 2 within 7 days; a third within 7 calendar days is "
        "an extra dose.",
    )


SCENARIOS += [
    Scenario(
        "in-methotrexate-schedule-given-daily",
        "A weekly methotrexate order and its weekly doses, the last 7 days ago; then the weekly "
        "dose charted and given DAILY on the ward 3, 2 and 1 days ago: 4 doses within 7 days, "
        "with no non-weekly order on record -> the critical methotrexate-schedule card (GIVEN 4 "
        "times, ONCE WEEKLY, check now), the doses in Why; the first-line window carries the "
        "schedule note and the therapy so far says NOT once weekly.",
        steps(_first_line, _mtx_given(3, 2, 1, keep_weekly=True)),
        [
            mtx_given([7, 3, 2, 1], ["mtx-6", *given("1", "2", "3")]),
            _with(x.first_line_window(), mentions=[NOT_WEEKLY_NOTE, GIVEN_NOT_WEEKLY]),
        ],
    ),
    Scenario(
        "in-methotrexate-schedule-given-daily-no-order",
        "No methotrexate order on record at all, only the ward chart: methotrexate 15 mg given "
        "on 5 consecutive days (5 to 1 days ago) -> the critical methotrexate-schedule card "
        "(GIVEN 5 times); the first-line window counts methotrexate from the first dose given "
        "and carries the schedule note.",
        steps(_first_line, _mtx_given(5, 4, 3, 2, 1, keep_order=False)),
        [
            mtx_given([5, 4, 3, 2, 1], given("1", "2", "3", "4", "5")),
            _with(x.first_line_window(), mentions=[NOT_WEEKLY_NOTE, GIVEN_NOT_WEEKLY])
            | {"evidenceAnyOf": [given("1")]},
        ],
    ),
    Scenario(
        "in-methotrexate-schedule-daily-order-and-given",
        "Methotrexate 15 mg ordered DAILY 6 days ago and given on the ward 3, 2 and 1 days ago: "
        "the order and the doses given make ONE methotrexate-schedule card, named by the order "
        "in force (ordered DAILY), with the doses given under Why and both as evidence.",
        steps(
            _first_line,
            _mtx_schedule(1, 1, "d", start_days_ago=6),
            _mtx_given(3, 2, 1),
        ),
        [
            mtx_schedule(
                ["daily"],
                [f"since {day_of(6)}"],
                ["**why**"],
                [f"methotrexate given 3 times from {day_of(3)} to {day_of(1)}"],
                evidence="mtx-order",
            )
            | {"evidence": ["mtx-order", *given("1", "2", "3")]},
            _with(x.first_line_window(), mentions=[NOT_WEEKLY_NOTE]) | ORDER_ONLY,
        ],
    ),
    Scenario(
        "out-methotrexate-schedule-given-split-dose",
        "A weekly methotrexate order whose dose is split: each week two administrations 12 "
        "hours apart, 6 weeks running: at most 2 within any 7 days, once weekly -> no schedule "
        "card, and the first-line window as usual (no note).",
        steps(
            _first_line,
            _mtx_given(*(d + h for d in range(42, 0, -7) for h in (0.5, 0))),
        ),
        [
            _with(
                x.first_line_window(),
                notMentions=[NOT_WEEKLY_NOTE, ["not once weekly"]],
            )
            | ORDER_ONLY
        ],
    ),
    Scenario(
        "boundary-methotrexate-schedule-given-3-in-7-days",
        "Under a weekly order, methotrexate given 16, 13 and 10 days ago: 3 doses within 7 "
        "calendar days (the first and last 6 days apart) -> the critical schedule card.",
        steps(_first_line, _mtx_given(16, 13, 10)),
        [
            mtx_given([16, 13, 10], given("1", "2", "3")),
            _with(x.first_line_window(), mentions=[NOT_WEEKLY_NOTE, GIVEN_NOT_WEEKLY]) | ORDER_ONLY,
        ],
        threshold=_given_boundary("fires (3 within 7 calendar days is more than 2)"),
    ),
    Scenario(
        "boundary-methotrexate-schedule-given-3-in-8-days",
        "Under a weekly order, methotrexate given 17, 13 and 10 days ago: 3 doses spread over 8 "
        "calendar days (the first and last 7 days apart), so no 7 days hold more than 2 -> no "
        "schedule card.",
        steps(_first_line, _mtx_given(17, 13, 10)),
        [
            _with(x.first_line_window(), notMentions=[NOT_WEEKLY_NOTE, ["not once weekly"]])
            | ORDER_ONLY
        ],
        threshold=_given_boundary("does not fire (no 7 calendar days hold 3)"),
    ),
]


# --- anti-MDA5 antibodies (docs/clinical/decision-model.md §5, §5a) --------------------------

ANTI_MDA5 = Code(fb.LOINC, "107563-9", "MDA5 Ab [Presence] in Serum or Plasma")
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def _anti_mda5(*, positive: bool, days_ago: int, by: str = "value", local: str = "mda5") -> object:
    """An anti-MDA5 result: valued SNOMED Positive / Negative (`by="value"`), only interpreted
    H / N (`by="interpretation"`), or named in words with a text value (`by="name"`)."""

    def step(c: Chart) -> None:
        when = at(days_ago=days_ago)
        if by == "name":
            c.add(
                b.observation(
                    c.id(local),
                    c.pid,
                    {"text": "Anti-MDA5 antibody (myositis panel)"},
                    effective=when,
                    category="laboratory",
                    valueString="Positive" if positive else "Negative",
                )
            )
            return
        extra: dict[str, Any] = {}
        value = None
        if by == "interpretation":
            code = "H" if positive else "N"
            extra["interpretation"] = [b.concept(Code(V3_INTERPRETATION, code, code))]
        else:
            value = b.concept(b.POSITIVE if positive else b.NEGATIVE)
        c.add(
            b.observation(
                c.id(local),
                c.pid,
                fb.concept([ANTI_MDA5]),
                effective=when,
                category="laboratory",
                value_concept=value,
                **extra,
            )
        )

    return step


def _ild_recent(c: Chart) -> None:
    c.problem("ild", "ild", days_ago=20)


SCENARIOS += [
    Scenario(
        "in-severe-organ-disease-ild-anti-mda5-positive",
        "Interstitial lung disease and a positive anti-MDA5 result 30 days ago: the severe "
        "pathway says anti-MDA5 positive with its date, the highest risk of rapidly progressive "
        "ILD.",
        steps(
            lambda c: refractory(c, mtx_days=98),
            _ild_recent,
            _anti_mda5(positive=True, days_ago=30),
        ),
        [
            x.severe_organ(
                evidence=["ild", "mda5"],
                mentions=[[f"anti-mda5 positive ({day_of(30)})"], ["rapidly progressive"]],
            )
        ],
    ),
    Scenario(
        "out-severe-organ-disease-ild-anti-mda5-negative",
        "Interstitial lung disease and a negative anti-MDA5 result: read as negative - the "
        "severe card keeps its standard anti-MDA5 line, no positive result named.",
        steps(
            lambda c: refractory(c, mtx_days=98),
            _ild_recent,
            _anti_mda5(positive=False, days_ago=30),
        ),
        [x.severe_organ(evidence=["ild"], notMentions=[["anti-mda5 positive"]])],
        forbidden=("mda5",),
    ),
    Scenario(
        "in-extramuscular-screen-anti-mda5-no-ild",
        "Inactive JDM with the organ screen done 33 days ago, then anti-MDA5 reported high (H) "
        "10 days ago and no interstitial lung disease recorded: the organ-screen card asks for "
        "lung function and chest imaging now because of it (the earlier lung function test "
        "predates the result).",
        steps(
            lambda c: inactive(c, mtx_days=140),
            _anti_mda5(positive=True, days_ago=10, by="interpretation"),
        ),
        [
            x.card(
                "extramuscular-screen",
                "info",
                mentions=[
                    [f"anti-mda5 positive ({day_of(10)})"],
                    ["lung function"],
                    ["chest imaging"],
                ],
                evidence=["mda5"],
            )
        ],
    ),
    Scenario(
        "out-extramuscular-screen-anti-mda5-negative",
        "Inactive JDM with its screen up to date and anti-MDA5 reported normal (N) 10 days ago: "
        "a negative result asks for nothing - no cards.",
        steps(
            lambda c: inactive(c, mtx_days=140),
            _anti_mda5(positive=False, days_ago=10, by="interpretation"),
        ),
        [],
        forbidden=("mda5",),
    ),
]
