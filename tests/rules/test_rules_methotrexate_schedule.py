"""Methotrexate more often than once weekly in the record (docs/clinical/safety.md): the critical
methotrexate-schedule card, the note on cards that go on with methotrexate, and the timeline."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from rules_builders import NOW, ago, dose, findings_for, seed_history, words

from cds_service.card_builder.cards import build_cards
from cds_service.history.model import (
    DoseStatus,
    MethotrexateSchedule,
    SourceRef,
    TherapyHistory,
)
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import Finding
from cds_service.rules.timeutil import day


def schedule(
    per_week: str,
    *,
    per_day: str | None = None,
    start: datetime | None = None,
    until: datetime | None = None,
    status: DoseStatus = DoseStatus.ORDERED,
) -> MethotrexateSchedule:
    return MethotrexateSchedule(
        start or ago(20),
        until,
        Decimal(per_week),
        Decimal(per_day) if per_day else None,
        "15 mg",
        status,
        SourceRef("MedicationRequest", "mtx-x"),
    )


def with_schedule(*schedules: MethotrexateSchedule) -> TherapyHistory:
    seed = seed_history()
    assert seed.methotrexate is not None
    return replace(seed, methotrexate=replace(seed.methotrexate, other_schedules=schedules))


def topics(history: TherapyHistory, knowledge: Knowledge) -> list[str]:
    return [f.topic for f in findings_for(history, knowledge)]


@pytest.mark.parametrize(
    ("per_week", "fires"),
    [("7", True), ("14", True), ("2", True), ("1.1667", True), ("1", False), ("0.5", False)],
)
def test_more_than_one_administration_a_week_fires(
    knowledge: Knowledge, per_week: str, fires: bool
) -> None:
    assert (
        "methotrexate-schedule" in topics(with_schedule(schedule(per_week)), knowledge)
    ) is fires


def test_daily_order_card_names_the_schedule_and_once_weekly(knowledge: Knowledge) -> None:
    history = with_schedule(schedule("7", per_day="1"))
    finding = next(
        f for f in findings_for(history, knowledge) if f.topic == "methotrexate-schedule"
    )
    values = words(finding, knowledge)
    assert values["schedule_upper"] == "DAILY" and values["recorded"] == "ordered"
    assert "ONCE WEEKLY" in values["once_weekly"]
    assert finding.summary_variant == "default"
    assert SourceRef("MedicationRequest", "mtx-x") in finding.resources


def test_ended_order_counts_for_28_days(knowledge: Knowledge) -> None:
    recent = with_schedule(schedule("7", per_day="1", start=ago(40), until=ago(28)))
    found = [f for f in findings_for(recent, knowledge) if f.topic == "methotrexate-schedule"]
    assert found and found[0].summary_variant == "past"
    old = with_schedule(schedule("7", per_day="1", start=ago(40), until=ago(29)))
    assert "methotrexate-schedule" not in topics(old, knowledge)


def test_reported_use_says_reported(knowledge: Knowledge) -> None:
    history = with_schedule(schedule("14", per_day="2", status=DoseStatus.REPORTED))
    finding = next(
        f for f in findings_for(history, knowledge) if f.topic == "methotrexate-schedule"
    )
    assert words(finding, knowledge)["recorded"] == "reported taken"
    assert words(finding, knowledge)["schedule_upper"] == "2 TIMES A DAY"


def test_cards_that_go_on_with_methotrexate_get_the_note(knowledge: Knowledge) -> None:
    findings = findings_for(with_schedule(schedule("7", per_day="1")), knowledge)
    start = next(f for f in findings if f.topic == "ivig-start")
    assert "methotrexateNotWeekly" in start.note_keys
    plain = next(f for f in findings_for(seed_history(), knowledge) if f.topic == "ivig-start")
    assert "methotrexateNotWeekly" not in plain.note_keys


def test_schedule_card_comes_first(knowledge: Knowledge) -> None:
    history = with_schedule(schedule("7", per_day="1"))
    cards = build_cards(findings_for(history, knowledge), history, knowledge, NOW, "http://x", "p")
    assert cards[0]["source"]["topic"]["code"] == "methotrexate-schedule"
    assert cards[0]["indicator"] == "critical"


# --- methotrexate GIVEN more often than weekly (the administrations alone) -------------------


def given_at(*moments: datetime, extra_weekly: bool = True) -> TherapyHistory:
    """The seed history with methotrexate 15 mg administrations at `moments` (beside the
    seed's four weekly doses, 16 Feb - 9 Mar, unless `extra_weekly` is False)."""
    seed = seed_history()
    assert seed.methotrexate is not None
    weekly = seed.methotrexate.events if extra_weekly else ()
    extra = tuple(
        dose("methotrexate", at, f"mtx-given-{n}", "15", route="oral")
        for n, at in enumerate(moments, start=1)
    )
    events = tuple(sorted((*weekly, *extra), key=lambda e: e.at))
    summary = replace(seed.methotrexate, events=events, doses_given=len(events))
    return replace(seed, methotrexate=summary)


def schedule_finding(history: TherapyHistory, knowledge: Knowledge) -> Finding | None:
    return next(
        (f for f in findings_for(history, knowledge) if f.topic == "methotrexate-schedule"), None
    )


def test_three_doses_on_consecutive_days_fire_the_given_variant(knowledge: Knowledge) -> None:
    history = given_at(ago(6), ago(5), ago(4), extra_weekly=False)
    finding = schedule_finding(history, knowledge)
    assert finding is not None and finding.summary_variant == "given"
    values = words(finding, knowledge)
    assert values["given_count"] == "3"
    assert (values["given_first"], values["given_last"]) == (day(ago(6)), day(ago(4)))
    assert {SourceRef("MedicationAdministration", f"mtx-given-{n}") for n in (1, 2, 3)} <= set(
        finding.resources
    )
    assert "methotrexate_given_max_in_7_days" in {t.name for t in finding.thresholds}


@pytest.mark.parametrize(
    ("moments", "weekly", "fires"),
    [
        # a weekly dose split into two 12 hours apart
        ((ago(6.5), ago(6)), False, False),
        # the seed's weekly dose of 9 Mar and another 2 days later (a weekly dose moved)
        ((ago(4),), True, False),
        # 3 within 7 calendar days (first and last 6 days apart)
        ((ago(12), ago(9), ago(6)), False, True),
        # 3 spread over 8 calendar days (first and last 7 days apart): no 7 days hold 3
        ((ago(13), ago(9), ago(6)), False, False),
    ],
)
def test_more_than_two_administrations_within_7_days_fire(
    knowledge: Knowledge, moments: tuple[datetime, ...], weekly: bool, fires: bool
) -> None:
    history = given_at(*moments, extra_weekly=weekly)
    assert (schedule_finding(history, knowledge) is not None) is fires


def test_split_weekly_dose_every_week_does_not_fire(knowledge: Knowledge) -> None:
    """7.5 mg twice on the same weekday, four weeks running: 2 in every 7 days."""
    moments = [ago(7 * w + 1 + h / 24) for w in range(4) for h in (0, 12)]
    assert schedule_finding(given_at(*moments, extra_weekly=False), knowledge) is None


def test_a_run_counts_for_28_days_after_its_last_dose(knowledge: Knowledge) -> None:
    recent = given_at(ago(30), ago(29), ago(28), extra_weekly=False)
    assert schedule_finding(recent, knowledge) is not None
    old = given_at(ago(31), ago(30), ago(29), extra_weekly=False)
    assert schedule_finding(old, knowledge) is None


def test_a_dose_on_an_unrecorded_date_is_not_placed_in_a_window(knowledge: Knowledge) -> None:
    history = given_at(ago(6), ago(5), ago(4), extra_weekly=False)
    assert history.methotrexate is not None
    events = list(history.methotrexate.events)
    events[1] = replace(events[1], date_unrecorded=True)
    unrecorded = replace(history, methotrexate=replace(history.methotrexate, events=tuple(events)))
    assert schedule_finding(unrecorded, knowledge) is None


def test_an_order_and_a_run_make_one_card_named_by_the_order(knowledge: Knowledge) -> None:
    history = given_at(ago(6), ago(5), ago(4), extra_weekly=False)
    assert history.methotrexate is not None
    both = replace(
        history,
        methotrexate=replace(history.methotrexate, other_schedules=(schedule("7", per_day="1"),)),
    )
    found = [f for f in findings_for(both, knowledge) if f.topic == "methotrexate-schedule"]
    assert len(found) == 1 and found[0].summary_variant == "default"
    assert SourceRef("MedicationRequest", "mtx-x") in found[0].resources
    assert SourceRef("MedicationAdministration", "mtx-given-3") in found[0].resources


def test_given_card_has_the_doses_in_why_the_note_and_the_timeline(knowledge: Knowledge) -> None:
    history = given_at(ago(3), ago(2), ago(1))
    findings = findings_for(history, knowledge)
    cards = build_cards(findings, history, knowledge, NOW, "http://x", "p")
    first = cards[0]
    assert first["source"]["topic"]["code"] == "methotrexate-schedule"
    assert first["summary"].startswith("Methotrexate GIVEN 4 times between")
    why = first["detail"].split("**Why**", 1)[1]
    assert f"15 mg on {day(ago(1))}" in why and f"15 mg on {day(NOW - timedelta(days=6))}" in why
    start = next(f for f in findings if f.topic == "ivig-start")
    assert "methotrexateNotWeekly" in start.note_keys
    main = next(c for c in cards if c["source"]["topic"]["code"] == "ivig-start")
    assert "NOT once weekly: given 4 times" in main["detail"]
