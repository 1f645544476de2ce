"""Clinical judgement: organ-threatening disease, pregnancy and contraception, hard-stop cards,
rituximab (docs/clinical/decision-model.md §4-§5a, dosing.md, safety.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from rules_builders import (
    NOW,
    AllergyFact,
    ago,
    dose,
    findings_for,
    indicator_of,
    ivig_course,
    jdm_since,
    measure,
    methotrexate,
    problem,
    seed_history,
    with_measurements,
    with_problems,
    without,
    words,
)

from cds_service.card_builder.cards import build_cards
from cds_service.dosing import IvigDose
from cds_service.dosing.cyclophosphamide import cyclophosphamide_dose
from cds_service.history.model import (
    CodedResult,
    DoseEvent,
    DoseStatus,
    PatientFacts,
    SourceRef,
    TherapyHistory,
)
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import Finding
from cds_service.rules.pregnancy import pregnancy_status


def topics(history: TherapyHistory, knowledge: Knowledge) -> set[str]:
    return {f.topic for f in findings_for(history, knowledge)}


def finding(history: TherapyHistory, knowledge: Knowledge, topic: str) -> Finding:
    return next(f for f in findings_for(history, knowledge) if f.topic == topic)


def card_text(history: TherapyHistory, knowledge: Knowledge, topic: str) -> str:
    cards = build_cards(findings_for(history, knowledge), history, knowledge, NOW, "http://x", "p")
    card = next(c for c in cards if c["source"]["topic"]["code"] == topic)
    return f"{card['summary']}\n{card['detail']}"


def card_of(history: TherapyHistory, knowledge: Knowledge, topic: str) -> dict[str, object]:
    cards = build_cards(findings_for(history, knowledge), history, knowledge, NOW, "http://x", "p")
    return dict(next(c for c in cards if c["source"]["topic"]["code"] == topic))


def patient(born: date, age: int, sex: str = "female") -> PatientFacts:
    return PatientFacts("seed", born, sex, False, age, 0, SourceRef("Patient", "seed"))


def no_dysphagia() -> TherapyHistory:
    """The seed girl without dysphagia, on methotrexate for 14 weeks: refractory, IVIG due."""
    history = seed_history()
    mtx = methotrexate(ago(weeks=14), 14)
    return replace(
        history,
        problems=tuple(p for p in history.problems if p.concept != "dysphagia"),
        methotrexate=mtx,
        dose_events=history.methylprednisolone_pulses + mtx.events,
    )


def failing_ivig(history: TherapyHistory) -> TherapyHistory:
    """Three monthly IVIG courses, the third begun 44 days ago (the response can be judged: 4
    weeks after it), since the JDM diagnosis, and methotrexate for long enough."""
    courses = tuple(ivig_course(ago(days), f"ivig-{days}") for days in (100, 72, 44))
    return jdm_since(replace(history, ivig_courses=courses), ago(weeks=52))


# --- severe-organ-disease ---------------------------------------------------------------------


@pytest.mark.parametrize("concept", ["ild", "myocarditis", "gi-vasculopathy", "aspiration"])
def test_organ_threatening_problem_replaces_ivig_start(knowledge: Knowledge, concept: str) -> None:
    history = with_problems(no_dysphagia(), problem(concept, "c-organ", ago(3)))
    found = topics(history, knowledge)
    assert "severe-organ-disease" in found
    assert "ivig-start" not in found
    severe = finding(history, knowledge, "severe-organ-disease")
    assert indicator_of(severe, knowledge) == "critical"
    assert SourceRef("Condition", "c-organ") in severe.resources


def test_severe_pathway_fires_before_methotrexate(knowledge: Knowledge) -> None:
    history = replace(with_problems(no_dysphagia(), problem("ild", "c-ild", ago(3))))
    history = replace(history, methotrexate=None, dose_events=history.methylprednisolone_pulses)
    assert "severe-organ-disease" in topics(history, knowledge)


def test_resolved_organ_problem_does_not_fire(knowledge: Knowledge) -> None:
    history = with_problems(no_dysphagia(), problem("ild", "c-ild", ago(300), active=False))
    assert "severe-organ-disease" not in topics(history, knowledge)
    assert "ivig-start" in topics(history, knowledge)


def test_dysphagia_counts_only_when_recorded_severe(knowledge: Knowledge) -> None:
    seed = seed_history()
    assert "severe-organ-disease" not in topics(seed, knowledge)  # the seed's answer is IVIG
    severe = replace(
        seed,
        problems=tuple(
            replace(p, severe=True) if p.concept == "dysphagia" else p for p in seed.problems
        ),
    )
    assert {"severe-organ-disease", "dysphagia-aspiration"} <= topics(severe, knowledge)
    assert "ivig-start" not in topics(severe, knowledge)


def test_myocarditis_slows_the_ivig_adjunct(knowledge: Knowledge) -> None:
    history = with_problems(no_dysphagia(), problem("myocarditis", "c-myo", ago(3)))
    dose = finding(history, knowledge, "severe-organ-disease").dose
    assert isinstance(dose, IvigDose)
    assert dose.evidence()["maxRateMlPerKgMin"] == "0.03"
    assert dose.days == 5
    assert (
        "0.03 mL/kg/min"
        in words(finding(history, knowledge, "severe-organ-disease"), knowledge)["ivig_adjunct"]
    )


def test_cyclophosphamide_range_needs_a_bsa(knowledge: Knowledge) -> None:
    history = with_problems(no_dysphagia(), problem("ild", "c-ild", ago(3)))
    with_bsa = words(finding(history, knowledge, "severe-organ-disease"), knowledge)
    assert "mg per pulse" in with_bsa["cyclophosphamide_dose"]
    no_height = replace(
        history,
        measurements={k: v for k, v in history.measurements.items() if k != "height"},
    )
    without_bsa = words(finding(no_height, knowledge, "severe-organ-disease"), knowledge)
    assert "no mg figure" in without_bsa["cyclophosphamide_dose"]


def test_cyclophosphamide_dose_caps_at_one_gram(knowledge: Knowledge) -> None:
    weight = measure("weight", "40", ago(1), "w")
    height = measure("height", "150", ago(1), "h")
    dose = cyclophosphamide_dose(knowledge.dosing, weight=weight, height=height)
    assert dose is not None
    assert (dose.bsa_m2, dose.low_mg, dose.high_mg, dose.capped) == (
        Decimal("1.29"),
        Decimal("645"),
        Decimal("1000"),
        True,
    )


def test_severe_card_names_the_pathway(knowledge: Knowledge) -> None:
    history = with_problems(no_dysphagia(), problem("ild", "c-ild", ago(3)))
    text = card_text(history, knowledge, "severe-organ-disease").lower()
    for words_ in ("expert centre", "methylprednisolone", "cyclophosphamide", "adjunct", "mda5"):
        assert words_ in text


# --- hard stops -------------------------------------------------------------------------------


def anaphylaxis(history: TherapyHistory) -> TherapyHistory:
    allergy = AllergyFact(
        "immune-globulin",
        True,
        "anaphylaxis, severe reaction",
        SourceRef("AllergyIntolerance", "a"),
    )
    return replace(history, allergies=(allergy,))


def test_hard_stop_is_its_own_card_without_ivig_start_wording(knowledge: Knowledge) -> None:
    history = anaphylaxis(no_dysphagia())
    found = topics(history, knowledge)
    assert "ivig-contraindicated" in found
    assert "ivig-start" not in found and "weight-needed" not in found
    stop = finding(history, knowledge, "ivig-contraindicated")
    assert stop.dose is None and stop.suggest == ()
    card = card_of(history, knowledge, "ivig-contraindicated")
    detail = str(card["detail"])
    assert detail.index("contraindicated") < detail.index("**Why**")
    assert "suggestions" not in card
    links = [str(link["url"]) for link in card.get("links", [])]  # type: ignore[attr-defined]
    assert not any("ivig-infusion" in url or "ivig-baseline" in url for url in links)
    reasons = {r["display"] for r in card["overrideReasons"]}  # type: ignore[attr-defined]
    assert "Already discussed with family" not in reasons
    assert "next step is **IVIG" not in detail


# --- pregnancy and contraception --------------------------------------------------------------


def test_pregnancy_note_on_methotrexate_cards(knowledge: Knowledge) -> None:
    history = with_problems(
        replace(no_dysphagia(), patient=patient(date(2010, 1, 10), 16)),
        problem("pregnancy", "c-preg", ago(40)),
    )
    start = finding(history, knowledge, "ivig-start")
    assert "pregnancy" in start.note_keys
    assert SourceRef("Condition", "c-preg") in start.resources
    assert "BSR2022" in start.source_keys
    text = card_text(history, knowledge, "ivig-start")
    assert "methotrexate is contraindicated in pregnancy" in text
    assert "BSR2022" in text.rsplit("Sources: ", 1)[-1]


def test_contraception_note_only_where_second_line_agents_are_offered(
    knowledge: Knowledge,
) -> None:
    girl = failing_ivig(replace(no_dysphagia(), patient=patient(date(2010, 1, 10), 16)))
    escalate = finding(girl, knowledge, "escalate-after-ivig")
    assert "contraception" in escalate.note_keys
    boy = replace(girl, patient=patient(date(2010, 1, 10), 16, sex="male"))
    assert "contraception" not in finding(boy, knowledge, "escalate-after-ivig").note_keys
    # ivig-start offers none of cyclophosphamide, mycophenolate or rituximab
    start_girl = replace(no_dysphagia(), patient=patient(date(2010, 1, 10), 16))
    assert finding(start_girl, knowledge, "ivig-start").note_keys == ()


@pytest.mark.parametrize(("age", "childbearing"), [(9, False), (10, True)])
def test_childbearing_potential_from_ten(
    knowledge: Knowledge, age: int, childbearing: bool
) -> None:
    history = replace(seed_history(), patient=patient(date(2016, 3, 1), age))
    assert pregnancy_status(history, knowledge, NOW).childbearing is childbearing


# --- rituximab --------------------------------------------------------------------------------


def capped_teen(age: int, born: date, sex: str = "male") -> TherapyHistory:
    history = failing_ivig(replace(no_dysphagia(), patient=patient(born, age, sex)))
    return with_measurements(
        without(history, "weight", "height"),
        measure("weight", "60", ago(1), "w-60"),
        measure("height", "165", ago(1), "h-165"),
    )


def test_capped_child_dose_is_never_called_adult(knowledge: Knowledge) -> None:
    history = capped_teen(15, date(2010, 9, 1))
    escalate = finding(history, knowledge, "escalate-after-ivig")
    assert escalate.dose.evidence()["perInfusionMg"] == "1000"
    text = card_text(history, knowledge, "escalate-after-ivig")
    assert "not a paediatric dose" not in text and "never a paediatric dose" not in text
    assert "by BSA" in text and "14 days apart" in text
    assert "rituximab-baseline" in escalate.suggest


def test_adult_gets_adult_wording(knowledge: Knowledge) -> None:
    history = capped_teen(25, date(2001, 1, 10))
    text = card_text(history, knowledge, "escalate-after-ivig")
    assert "adult regimen" in text
    assert "paediatric dose" not in text.split("**Dose**")[0]


def test_rituximab_baseline_drafts_hepatitis_b_and_igg(knowledge: Knowledge) -> None:
    card = card_of(capped_teen(15, date(2010, 9, 1)), knowledge, "escalate-after-ivig")
    codes = {
        coding["code"]
        for suggestion in card["suggestions"]  # type: ignore[attr-defined]
        for action in suggestion["actions"]
        for coding in action["resource"].get("code", {}).get("coding", [])
    }
    assert {"5196-1", "16933-4", "2465-3"} <= codes


def pregnancy_test(value: str, days: float, rid: str) -> CodedResult:
    return CodedResult("pregnancy-test", value, value, ago(days), SourceRef("Observation", rid))


@pytest.mark.parametrize(
    ("tests", "pregnant"),
    [
        ((("positive", 5, "t1"),), True),
        ((("positive", 30, "t1"), ("negative", 3, "t2")), False),
        ((("negative", 30, "t1"), ("positive", 3, "t2")), True),
        ((("positive", 281, "t1"),), False),  # older than 40 weeks
    ],
)
def test_positive_pregnancy_test_counts_until_a_later_negative(
    knowledge: Knowledge, tests: tuple[tuple[str, float, str], ...], pregnant: bool
) -> None:
    results = tuple(pregnancy_test(*t) for t in tests)
    history = replace(seed_history(), coded_results=seed_history().coded_results + results)
    assert pregnancy_status(history, knowledge, NOW).pregnant is pregnant


# --- what was already tried -------------------------------------------------------------------


def _with_doses(history: TherapyHistory, *events: DoseEvent) -> TherapyHistory:
    return replace(history, dose_events=(*history.dose_events, *events))


def test_escalation_says_cyclophosphamide_was_already_given_with_its_total(
    knowledge: Knowledge,
) -> None:
    pulses = [dose("cyclophosphamide", ago(days), f"cyc-{days}", "750") for days in (90, 60, 30)]
    history = _with_doses(failing_ivig(no_dysphagia()), *pulses)
    values = words(finding(history, knowledge, "escalate-after-ivig"), knowledge)
    said = values["cyclophosphamide_tried"]
    assert "Already given" in said and "3 dose(s) given" in said and "2.25 g in all" in said
    assert values["cyclosporine_tried"] == "" and values["others_tried"] == ""
    escalate = finding(history, knowledge, "escalate-after-ivig")
    assert SourceRef("MedicationAdministration", "cyc-30") in escalate.resources
    assert any(f.name == "cyclophosphamide_tried" and f.value == "3" for f in escalate.facts)


def test_escalation_options_stand_as_they_are_without_those_agents(knowledge: Knowledge) -> None:
    values = words(
        finding(failing_ivig(no_dysphagia()), knowledge, "escalate-after-ivig"), knowledge
    )
    assert values["cyclosporine_tried"] == values["cyclophosphamide_tried"] == ""
    assert values["others_tried"] == ""


def test_ciclosporin_only_ordered_says_ordered_from(knowledge: Knowledge) -> None:
    order = replace(
        dose("cyclosporine", ago(200), "csa", "75", route="oral", rtype="MedicationRequest"),
        status=DoseStatus.ORDERED,
    )
    history = _with_doses(failing_ivig(no_dysphagia()), order)
    said = words(finding(history, knowledge, "escalate-after-ivig"), knowledge)[
        "cyclosporine_tried"
    ]
    assert "Already tried" in said and f"ordered from {ago(200).date().isoformat()}" in said


def test_expert_centre_agents_already_tried_are_named_in_order(knowledge: Knowledge) -> None:
    reported = replace(
        dose("mycophenolate", ago(150), "mmf", "500", route="oral", rtype="MedicationStatement"),
        status=DoseStatus.REPORTED,
    )
    jak = dose("jak-inhibitor", ago(40), "jak", "5", route="oral")
    history = _with_doses(failing_ivig(no_dysphagia()), jak, reported)
    said = words(finding(history, knowledge, "escalate-after-ivig"), knowledge)["others_tried"]
    assert said.index("mycophenolate (reported taken from") < said.index("JAK inhibitor (1 dose")


def test_severe_card_says_cyclophosphamide_already_given(knowledge: Knowledge) -> None:
    pulses = [dose("cyclophosphamide", ago(days), f"cyc-{days}", "500") for days in (60, 30)]
    history = _with_doses(with_problems(seed_history(), problem("ild", "ild", ago(70))), *pulses)
    said = words(finding(history, knowledge, "severe-organ-disease"), knowledge)[
        "cyclophosphamide_tried"
    ]
    assert "Cyclophosphamide already given" in said and "1 g in all" in said
    plain = with_problems(seed_history(), problem("ild", "ild", ago(70)))
    assert (
        words(finding(plain, knowledge, "severe-organ-disease"), knowledge)[
            "cyclophosphamide_tried"
        ]
        == ""
    )
