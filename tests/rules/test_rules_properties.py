"""Invariants of docs/clinical/decision-model.md §6 ("never do") over many generated histories
(Hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_builders import (
    NOW,
    ago,
    findings_for,
    indicator_of,
    ivig_course,
    measure,
    problem,
    seed_history,
    with_measurements,
    with_problems,
    without,
)

from cds_service.card_builder.cards import build_cards
from cds_service.history.model import AllergyFact, SourceRef, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import Effect


@st.composite
def histories(draw: st.DrawFn) -> TherapyHistory:
    history = seed_history()
    if draw(st.booleans()):  # drop dysphagia: no red flag unless a score gives one
        history = replace(
            history, problems=tuple(p for p in history.problems if p.concept != "dysphagia")
        )
    history = without(history, "weight")
    weight_age = draw(st.one_of(st.none(), st.integers(0, 60)))
    if weight_age is not None:
        kg = draw(st.decimals(Decimal("1"), Decimal("160"), places=1))
        history = with_measurements(history, measure("weight", str(kg), ago(weight_age), "w"))
    cmas = draw(st.integers(0, 52))
    history = with_measurements(history, measure("cmas", str(cmas), ago(1), "cm-h"))
    egfr = draw(st.integers(10, 140))
    history = with_measurements(history, measure("egfr", str(egfr), ago(1), "eg-h"))
    n_courses = draw(st.integers(0, 4))
    last_weeks = draw(st.integers(0, 30))
    courses = tuple(ivig_course(ago(weeks=last_weeks + 4 * i), f"iv-{i}") for i in range(n_courses))
    history = replace(history, ivig_courses=courses)
    if draw(st.booleans()):
        history = with_problems(history, problem("myocarditis", "c-myo", ago(10)))
    if draw(st.booleans()):
        allergy = AllergyFact("immune-globulin", True, "anaphylaxis", SourceRef("A", "a"))
        history = replace(history, allergies=(allergy,))
    if draw(st.integers(0, 9)) == 0:
        history = replace(history, patient=replace(history.patient, deceased=True))
    return history


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_never_do(knowledge: Knowledge, history: TherapyHistory) -> None:
    findings = findings_for(history, knowledge)
    topics = [f.topic for f in findings]
    by_topic = {f.topic: f for f in findings}
    if history.patient.deceased:
        assert findings == ()
        return
    # never ivig-start alongside escalate-after-ivig, never within 8 weeks of an infusion
    assert not ({"ivig-start", "escalate-after-ivig"} <= set(topics))
    infusions = [i.at for c in history.ivig_courses for i in c.infusions]
    if any(at >= NOW - timedelta(weeks=8) for at in infusions if at <= NOW):
        assert "ivig-start" not in topics
    start = by_topic.get("ivig-start")
    if start is not None:
        # never a dose without a usable weight, and then always the weight-needed card
        assert (start.dose is None) is ("weight-needed" in topics)
        if start.dose is not None:
            assert Decimal(start.dose.evidence()["courseTotalG"]) <= 70
            weight = history.latest("weight")
            assert weight is not None and weight.at >= NOW - timedelta(days=30)
        hard = any(c.effect is Effect.HARD_STOP for c in start.safety_checks)
        if hard:
            assert (
                indicator_of(start, knowledge) == "critical" and "ivig-draft" not in start.suggest
            )
    cards = build_cards(findings, history, knowledge, NOW, "https://x", "seed")
    assert all(len(card["summary"]) <= 139 for card in cards)
    assert len({card["uuid"] for card in cards}) == len(cards)
