"""Cards from findings: contract fields, detail section order, evidence, drafts valid per R4B."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest
from rules_builders import (
    NOW,
    ago,
    findings_for,
    glucocorticoid,
    ivig_course,
    measure,
    problem,
    seed_history,
    with_measurements,
    with_problems,
    without,
)

from cds_service.card_builder.cards import build_cards
from cds_service.history.model import (
    AllergyFact,
    CodedResult,
    DataQualityNote,
    DoseStatus,
    ImmunizationFact,
    MatchKind,
    MethotrexateSchedule,
    SourceRef,
    TherapyHistory,
)
from cds_service.knowledge.loader import Knowledge

BASE = "https://cds.example.org/jdm"
# docs/clinical/card-contract.md: after the recommendation, each part when it has content
SECTIONS = ("**Why**", "**Dose**", "**Safety**", "**Therapy so far**", "Sources:")
TOPIC_SYSTEM = "https://jdm-cds.example.org/fhir/CodeSystem/card-topic"


def topic_of(card: dict[str, Any]) -> str:
    return str(card["source"]["topic"]["code"])


def cards_for(history: TherapyHistory, knowledge: Knowledge) -> list[dict[str, Any]]:
    findings = findings_for(history, knowledge, ("Procedure search cut short",))
    return build_cards(findings, history, knowledge, NOW, BASE, "seed")


def every_topic_histories() -> list[TherapyHistory]:
    """Histories that between them fire every topic of the card contract."""
    seed = seed_history(procedures=())
    risky = with_problems(
        with_measurements(
            without(seed, "iga"),
            measure("egfr", "45", ago(1), "egfr-2"),
            measure("iga", "3", ago(2), "iga-2"),
        ),
        problem("thrombophilia", "c-thr", ago(300)),
        problem("myocarditis", "c-myo", ago(20)),
    )
    stale_weight = with_measurements(
        without(seed, "weight"), measure("weight", "26", ago(90), "w-old")
    )
    weak = replace(seed, problems=tuple(p for p in seed.problems if p.concept != "dysphagia"))
    courses = tuple(ivig_course(ago(weeks=w), f"ivig-{w}") for w in (12, 8, 4))
    failing = without(seed_history(ivig_courses=courses), "ck", "cmas")
    fast_taper = seed_history(glucocorticoid=glucocorticoid((ago(50), "52"), (ago(20), "20")))
    left_out = seed_history(
        data_quality=(
            DataQualityNote(
                "Observation",
                "w-lb",
                "unit '[stone_av]' cannot be converted",
                "unit",
                "weight",
                ago(1),
            ),
        )
    )
    overdue = seed_history(ivig_courses=(ivig_course(ago(weeks=9), "ivig-9"),))
    stopped = with_measurements(seed, measure("egfr", "20", ago(1), "egfr-3"))  # hard stop
    anti_iga = with_measurements(
        without(seed_history(coded_results=(ANTI_IGA_POSITIVE,)), "iga"),
        measure("iga", "3", ago(2), "iga-3"),
    )
    mtx = seed.methotrexate
    assert mtx is not None
    daily = replace(seed, methotrexate=replace(mtx, other_schedules=(DAILY_METHOTREXATE,)))
    return [
        seed,
        daily,
        risky,
        stale_weight,
        weak,
        failing,
        fast_taper,
        left_out,
        overdue,
        stopped,
        anti_iga,
    ]


DAILY_METHOTREXATE = MethotrexateSchedule(
    ago(20),
    None,
    Decimal(7),
    Decimal(1),
    "15 mg",
    DoseStatus.ORDERED,
    SourceRef("MedicationRequest", "mtx-daily"),
)
ANTI_IGA_POSITIVE = CodedResult(
    "anti-iga", "positive", "positive", ago(20), SourceRef("Observation", "anti-iga")
)


@pytest.fixture(scope="module")
def all_cards(knowledge: Knowledge) -> list[dict[str, Any]]:
    return [card for h in every_topic_histories() for card in cards_for(h, knowledge)]


def test_every_topic_is_produced(all_cards: list[dict[str, Any]]) -> None:
    topics = {card["source"]["topic"]["code"] for card in all_cards}
    assert topics == {
        "methotrexate-schedule", "severe-organ-disease", "ivig-start", "ivig-course-due",
        "ivig-contraindicated",
        "weight-needed", "first-line-window", "dysphagia-aspiration",
        "ivig-safety-iga-deficiency", "ivig-safety-anti-iga", "ivig-safety-renal",
        "ivig-safety-thrombosis",
        "ivig-safety-cardiac-fluid", "ivig-monitoring-due", "escalate-after-ivig",
        "extramuscular-screen", "steroid-taper", "data-quality",
    }  # fmt: skip


def test_contract_fields_on_every_card(all_cards: list[dict[str, Any]]) -> None:
    for card in all_cards:
        assert len(card["summary"]) <= 139, card["summary"]
        assert card["indicator"] in {"info", "warning", "critical"}
        assert card["source"]["label"]
        assert card["source"]["topic"]["system"] == TOPIC_SYSTEM
        assert len(card["uuid"]) == 36
        if "suggestions" in card:
            assert card["selectionBehavior"] == "any"
        for reason in card.get("overrideReasons", []):
            assert reason["display"] and reason["code"] and reason["system"].startswith("https://")
        for link in card.get("links", []):
            assert link["type"] == "absolute" and link["url"].startswith(f"{BASE}/order-sets/")


def no_null_or_empty(value: Any, path: str = "card") -> None:
    assert value is not None, path
    if isinstance(value, str | list | dict):
        assert len(value) > 0, path
    if isinstance(value, dict):
        for key, inner in value.items():
            no_null_or_empty(inner, f"{path}.{key}")
    if isinstance(value, list):
        for index, inner in enumerate(value):
            no_null_or_empty(inner, f"{path}[{index}]")


def test_no_null_or_empty_optional_fields(all_cards: list[dict[str, Any]]) -> None:
    for card in all_cards:
        evidence = card["extension"]["org.jdm-cds.evidence"]
        # `facts` / `thresholds` may legitimately be empty lists in evidence; the rest never
        trimmed = {**card, "extension": {k: v for k, v in evidence.items() if v != []}}
        no_null_or_empty(trimmed)


def test_detail_sections_in_contract_order(all_cards: list[dict[str, Any]]) -> None:
    for card in all_cards:
        detail = card["detail"]
        positions = [detail.index(section) for section in SECTIONS if section in detail]
        assert positions == sorted(positions) and positions[0] > 0, card["summary"]
        assert detail.rsplit("\n\n", 1)[-1].startswith("Sources: "), card["summary"]
        if card["source"]["topic"]["code"] in ("ivig-start", "escalate-after-ivig"):
            assert "**Why**" in detail, card["summary"]


def test_cards_sorted_by_indicator_then_topic(knowledge: Knowledge) -> None:
    for history in every_topic_histories():
        cards = cards_for(history, knowledge)
        rank = {"critical": 0, "warning": 1, "info": 2}
        keys = [rank[c["indicator"]] for c in cards]
        assert keys == sorted(keys)


def test_evidence_shape(all_cards: list[dict[str, Any]]) -> None:
    for card in all_cards:
        evidence = card["extension"]["org.jdm-cds.evidence"]
        assert evidence["topic"] == card["source"]["topic"]["code"]
        assert evidence["ruleId"]
        # empty lists are left out (no empty arrays in a response)
        assert [] not in evidence.values()
        resources = evidence.get("resources", [])
        assert resources == sorted(set(resources))
        for threshold in evidence.get("thresholds", []):
            Decimal(threshold["value"])
            assert threshold["comparison"] in {"lt", "le", "gt", "ge"} and threshold["sourceKey"]
        ivig_cards = {
            "ivig-start",
            "ivig-course-due",
            "ivig-contraindicated",
            "severe-organ-disease",
        }
        assert ("safetyChecks" in evidence) is (evidence["topic"] in ivig_cards)


def test_seed_ivig_start_card(knowledge: Knowledge) -> None:
    cards = cards_for(seed_history(), knowledge)
    start = cards[0]
    assert start["source"]["topic"]["code"] == "ivig-start" and start["indicator"] == "critical"
    evidence = start["extension"]["org.jdm-cds.evidence"]
    assert Decimal(evidence["dose"]["courseTotalG"]) == 52
    assert {"Condition/c-dys", "Observation/w-3", "MedicationAdministration/mp-1"} <= set(
        evidence["resources"]
    )
    assert "2 g/kg × 26 kg (weight of 2026-03-10) = **52 g per course**" in start["detail"]
    labels = [s["label"] for s in start["suggestions"]]
    assert (
        labels[0].startswith("Draft IVIG course")
        and labels[1] == "Baseline orders before the first IVIG course"
    )
    reasons = {r["display"] for r in start["overrideReasons"]}
    assert {"Already discussed with family", "Treated elsewhere",
            "Not refractory in my judgement"} <= reasons  # fmt: skip


def test_every_drafted_resource_is_valid_r4b(all_cards: list[dict[str, Any]]) -> None:
    models = {"MedicationRequest": MedicationRequest, "ServiceRequest": ServiceRequest}
    drafted = 0
    for card in all_cards:
        for suggestion in card.get("suggestions", []):
            for action in suggestion["actions"]:
                resource = action["resource"]
                models[resource["resourceType"]].model_validate(resource)
                assert resource["status"] == "draft" and resource["intent"] == "proposal"
                assert resource["subject"] == {"reference": "Patient/seed"}
                drafted += 1
    assert drafted > 20


def test_ivig_draft_states_per_day_dose_and_days(knowledge: Knowledge) -> None:
    start = cards_for(seed_history(), knowledge)[0]
    request = start["suggestions"][0]["actions"][0]["resource"]
    dosage = request["dosageInstruction"][0]
    assert Decimal(str(dosage["doseAndRate"][0]["doseQuantity"]["value"])) == 26
    assert dosage["timing"]["repeat"]["count"] == 2


def test_no_ivig_draft_without_weight(knowledge: Knowledge) -> None:
    cards = cards_for(without(seed_history(), "weight"), knowledge)
    start = next(c for c in cards if c["source"]["topic"]["code"] == "ivig-start")
    kinds = {a["resource"]["resourceType"] for s in start["suggestions"] for a in s["actions"]}
    assert kinds == {"ServiceRequest"}
    assert "dose" not in start["extension"]["org.jdm-cds.evidence"]


def test_record_text_is_escaped_in_markdown(knowledge: Knowledge) -> None:
    words = "<img src=x onerror=alert(1)> [click](http://evil) trouble swallowing"
    hostile = replace(
        problem("dysphagia", "c-x", ago(2), display=words), quote=words, matched_by=MatchKind.TEXT
    )
    seed = seed_history()
    cards = cards_for(replace(seed, problems=(*seed.problems, hostile)), knowledge)
    detail = cards[0]["detail"]
    assert "<img" not in detail
    assert "[click](" not in detail  # brackets escaped: no live link
    assert "&lt;img" in detail and "\\[click\\]" in detail


def test_a_long_record_phrase_gets_the_short_summary_not_a_cut(knowledge: Knowledge) -> None:
    from cds_service.card_builder.cards import summary
    from cds_service.rules.findings import Finding

    long_finding = "creatinine rose from 40 umol/L (2026-01-02) to 95 umol/L (2026-03-01), " * 2
    finding = Finding(topic="ivig-safety-renal", rule_id="safety")
    topic = knowledge.topic("ivig-safety-renal")
    text = summary(finding, topic, {"finding": long_finding, "fluid_volume": ""})
    assert (
        text == "Renal risk before IVIG: sucrose-free product, rate <= 0.03 mL/kg/min, 5-day split"
    )
    assert "(eGFR 55)" in summary(finding, topic, {"finding": "eGFR 55", "fluid_volume": ""})


def test_every_summary_with_record_text_has_a_short_fallback(knowledge: Knowledge) -> None:
    # placeholders that carry the record's own words (findings, reasons, lists) can overflow 139
    open_ended = ("{finding}", "_finding}", "{hard_stop}", "{weight_problem}", "{missing}")
    checked = 0
    for topic_code, topic in knowledge.texts.topics.items():
        for name, template in topic.summaries.items():
            if any(marker in template for marker in open_ended) and not name.endswith(".short"):
                assert f"{name}.short" in topic.summaries, (topic_code, name)
                checked += 1
    assert checked >= 8


def test_a_hard_stop_card_says_nothing_about_giving_ivig(knowledge: Knowledge) -> None:
    """docs/clinical/safety.md, hard stops: the Safety section keeps the hard stop and a live
    vaccine given while immunosuppressed, and drops every line about giving IVIG (the vaccine
    deferral after a course, the slower rate for migraine, the thrombosis rate); the specialist
    named is the one the hard stop needs."""
    anaphylaxis = AllergyFact(
        "immune-globulin", True, "anaphylaxis", SourceRef("AllergyIntolerance", "a1")
    )
    vaccine = ImmunizationFact(
        "live-vaccine", "MMR", None, ago(10), SourceRef("Immunization", "mmr")
    )
    history = with_problems(
        seed_history(allergies=(anaphylaxis,), immunizations=(vaccine,)),
        problem("migraine", "c-mig", ago(300)),
        problem("thrombophilia", "c-thr", ago(300)),
    )
    (card,) = [c for c in cards_for(history, knowledge) if topic_of(c) == "ivig-contraindicated"]
    detail = card["detail"]
    assert "**HARD STOP**" in detail and "Live vaccine given while immunosuppressed" in detail
    for about_giving in (
        "defer measles",
        "aseptic meningitis",
        "Thrombosis risk",
        "IVIG may blunt",
    ):
        assert about_giving not in detail, about_giving
    assert "allergy/immunology, for the reaction to immune globulin" in detail
    assert "nephrology" not in detail and "ACIP-timing" not in detail
    # the same record without the allergy: the IVIG card keeps every line
    start = cards_for(replace(history, allergies=()), knowledge)
    (ivig,) = [c for c in start if topic_of(c) == "ivig-start"]
    assert "defer measles" in ivig["detail"] and "aseptic meningitis" in ivig["detail"]
