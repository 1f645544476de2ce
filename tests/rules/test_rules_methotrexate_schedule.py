"""Methotrexate more often than once weekly in the record (docs/clinical/safety.md): the critical
methotrexate-schedule card, the note on cards that go on with methotrexate, and the timeline."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from rules_builders import NOW, ago, findings_for, seed_history, words

from cds_service.card_builder.cards import build_cards
from cds_service.history.model import (
    DoseStatus,
    MethotrexateSchedule,
    SourceRef,
    TherapyHistory,
)
from cds_service.knowledge.loader import Knowledge


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
