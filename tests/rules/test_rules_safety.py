"""Safety checks of docs/clinical/safety.md: effect, threshold and what each changes on a card."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from rules_builders import (
    NOW,
    ago,
    context_for,
    dose,
    findings_for,
    glucocorticoid,
    indicator_of,
    ivig_course,
    measure,
    problem,
    run,
    seed_history,
    with_measurements,
    with_problems,
    without,
    words,
)

from cds_service.card_builder.safety_text import check_detail
from cds_service.history.model import (
    AllergyFact,
    CodedResult,
    ImmunizationFact,
    ProcedureFact,
    SourceRef,
    TherapyHistory,
)
from cds_service.knowledge.loader import Knowledge
from cds_service.rules import ivig_start, safety
from cds_service.rules.findings import Effect, Finding


def start_card(history: TherapyHistory, knowledge: Knowledge) -> Finding:
    """The IVIG card: ivig-start, or ivig-contraindicated when a hard stop fired."""
    return next(
        f
        for f in run(ivig_start, history, knowledge)
        if f.topic in ("ivig-start", "ivig-contraindicated")
    )


def check_codes(history: TherapyHistory, knowledge: Knowledge) -> dict[str, Effect]:
    return {c.code: c.effect for c in start_card(history, knowledge).safety_checks}


def topics(history: TherapyHistory, knowledge: Knowledge) -> set[str]:
    return {f.topic for f in findings_for(history, knowledge)}


def test_clean_seed_has_only_the_vaccine_deferral_note(knowledge: Knowledge) -> None:
    assert check_codes(seed_history(), knowledge) == {"vaccine-deferral": Effect.NOTE}


@pytest.mark.parametrize(
    ("egfr", "code", "effect"),
    [
        ("61", None, None),
        ("60", None, None),  # eGFR 60 is not < 60
        ("59", "renal", Effect.WARNING),
        ("30", "renal", Effect.WARNING),  # eGFR 30 is not < 30: warning, not a hard stop
        ("29", "renal-severe", Effect.HARD_STOP),
    ],
)
def test_egfr_60_and_30_boundaries(
    knowledge: Knowledge, egfr: str, code: str | None, effect: Effect | None
) -> None:
    history = with_measurements(seed_history(), measure("egfr", egfr, ago(1), "egfr-2"))
    codes = check_codes(history, knowledge)
    renal = {k: v for k, v in codes.items() if k.startswith("renal")}
    assert renal == ({code: effect} if code else {})
    found = topics(history, knowledge)
    assert ("ivig-safety-renal" in found) is (code == "renal")


def test_renal_warning_switches_to_5_day_split_and_slow_rate(knowledge: Knowledge) -> None:
    history = with_measurements(seed_history(), measure("egfr", "50", ago(1), "egfr-2"))
    dose_object = start_card(history, knowledge).dose.evidence()
    assert dose_object is not None
    assert dose_object["days"] == 5
    assert Decimal(dose_object["perDayG"]) == Decimal("10.4")
    assert Decimal(dose_object["maxRateMlPerKgMin"]) == Decimal("0.03")


def test_hard_stop_is_critical_without_a_draft_order(knowledge: Knowledge) -> None:
    history = with_measurements(seed_history(), measure("egfr", "20", ago(1), "egfr-2"))
    card = start_card(history, knowledge)
    assert card.topic == "ivig-contraindicated"
    assert indicator_of(card, knowledge) == "critical"
    assert card.dose is None
    assert card.suggest == ()  # no draft order, no baseline orders (pre-IVIG serology)


@pytest.mark.parametrize(("ratio_value", "severe"), [("59", False), ("60", True)])
def test_creatinine_rise_of_1_5_times_within_3_months(
    knowledge: Knowledge, ratio_value: str, severe: bool
) -> None:
    history = without(seed_history(), "creatinine")
    history = with_measurements(
        history,
        measure("creatinine", "40", ago(60), "cr-a", low="25", high="90"),
        measure("creatinine", ratio_value, ago(1), "cr-b", low="25", high="90"),
    )
    assert ("renal-severe" in check_codes(history, knowledge)) is severe


def test_creatinine_rise_against_a_value_older_than_3_months_is_not_compared(
    knowledge: Knowledge,
) -> None:
    history = without(seed_history(), "creatinine")
    history = with_measurements(
        history,
        measure("creatinine", "30", ago(120), "cr-a", low="25", high="90"),
        measure("creatinine", "60", ago(1), "cr-b", low="25", high="90"),
    )
    assert "renal-severe" not in check_codes(history, knowledge)


def test_no_renal_data_is_said_not_assumed_normal(knowledge: Knowledge) -> None:
    history = without(seed_history(), "creatinine", "egfr")
    assert check_codes(history, knowledge).get("renal-unknown") == Effect.NOTE


def test_severe_ig_allergy_is_a_hard_stop(knowledge: Knowledge) -> None:
    allergy = AllergyFact(
        "immune-globulin", True, "anaphylaxis", SourceRef("AllergyIntolerance", "a1")
    )
    card = start_card(seed_history(allergies=(allergy,)), knowledge)
    assert card.safety_checks[0].code == "anaphylaxis-to-ig"
    assert indicator_of(card, knowledge) == "critical" and "ivig-draft" not in card.suggest
    assert card.topic == "ivig-contraindicated"


@pytest.mark.parametrize(
    ("value", "low", "deficient", "mildly_low"),
    [
        ("6", None, True, False),
        ("7", None, False, False),
        ("6", "40", True, False),  # under 7 mg/dL: deficiency, whatever the range
        ("30", "40", False, True),  # under the range only: a note, not a deficiency
        ("40", "40", False, False),
    ],
)
def test_iga_deficiency_is_under_7_mg_dl_and_under_the_range_is_a_note(
    knowledge: Knowledge, value: str, low: str | None, deficient: bool, mildly_low: bool
) -> None:
    history = without(seed_history(), "iga")
    history = with_measurements(history, measure("iga", value, ago(3), "iga-2", low=low))
    assert ("ivig-safety-iga-deficiency" in topics(history, knowledge)) is deficient
    assert ("iga-low" in check_codes(history, knowledge)) is mildly_low


def _anti_iga(value: str, days: int, rid: str = "anti") -> CodedResult:
    return CodedResult("anti-iga", value, value, ago(days), SourceRef("Observation", rid))


MILD_IG_REACTION = AllergyFact(
    "immune-globulin", False, "urticaria, mild reaction", SourceRef("AllergyIntolerance", "a1")
)


@pytest.mark.parametrize(
    ("iga", "results", "allergies", "expected"),
    [
        # IgA deficiency, anti-IgA positive, no reaction: the anti-IgA warning replaces the
        # IgA-deficiency one
        ("5", (_anti_iga("positive", 20),), (), "anti-iga"),
        # ... and with any recorded reaction to immune globulin, mild or not: the hard stop
        ("5", (_anti_iga("positive", 20),), (MILD_IG_REACTION,), "anti-iga-reaction"),
        # anti-IgA negative: the plain IgA-deficiency warning
        ("5", (_anti_iga("negative", 20),), (MILD_IG_REACTION,), "iga-deficiency"),
        # the latest result counts: negative after positive
        (
            "5",
            (_anti_iga("positive", 300, "old"), _anti_iga("negative", 20)),
            (MILD_IG_REACTION,),
            "iga-deficiency",
        ),
        # no IgA deficiency (7 is not < 7): anti-IgA alone changes nothing
        ("7", (_anti_iga("positive", 20),), (MILD_IG_REACTION,), None),
    ],
)
def test_anti_iga_antibodies_with_iga_deficiency(
    knowledge: Knowledge,
    iga: str,
    results: tuple[CodedResult, ...],
    allergies: tuple[AllergyFact, ...],
    expected: str | None,
) -> None:
    history = without(seed_history(coded_results=results, allergies=allergies), "iga")
    history = with_measurements(history, measure("iga", iga, ago(3), "iga-2"))
    codes = check_codes(history, knowledge)
    iga_codes = {c for c in codes if c in ("iga-deficiency", "anti-iga", "anti-iga-reaction")}
    assert iga_codes == ({expected} if expected else set())
    card = start_card(history, knowledge)
    if expected == "anti-iga-reaction":
        assert card.topic == "ivig-contraindicated" and codes[expected] == Effect.HARD_STOP
        assert "ivig-draft" not in card.suggest
    else:
        assert card.topic == "ivig-start"
    if expected == "anti-iga":
        assert "ivig-safety-anti-iga" in topics(history, knowledge)
        assert "ivig-safety-iga-deficiency" not in topics(history, knowledge)


@pytest.mark.parametrize(
    ("creatinine", "height", "expected"),
    [
        # 0.413 x 130 / (140 / 88.4) = 33.9: under 60 -> warning, said as an estimate
        ("140", "130", "renal"),
        # 0.413 x 130 / (200 / 88.4) = 23.7: under 30 -> the hard stop
        ("200", "130", "renal-severe"),
        # 0.413 x 130 / (40 / 88.4) = 118.7: nothing
        ("40", "130", None),
        # no height, no eGFR, no lab range: cannot be judged, and the card says so
        ("140", None, "renal-unjudged"),
    ],
)
def test_bedside_schwartz_when_no_egfr_is_recorded(
    knowledge: Knowledge, creatinine: str, height: str | None, expected: str | None
) -> None:
    history = without(seed_history(), "egfr", "creatinine", "height")
    history = with_measurements(history, measure("creatinine", creatinine, ago(2), "cr"))
    if height is not None:
        history = with_measurements(history, measure("height", height, ago(30), "h"))
    codes = set(check_codes(history, knowledge)) & {"renal", "renal-severe", "renal-unjudged"}
    assert codes == ({expected} if expected else set())


def test_iga_unknown_only_before_a_first_course(knowledge: Knowledge) -> None:
    history = without(seed_history(), "iga")
    assert "iga-unknown" in check_codes(history, knowledge)
    old_course = (ivig_course(ago(weeks=30), "ivig-old"),)
    assert "iga-unknown" not in check_codes(replace(history, ivig_courses=old_course), knowledge)


@pytest.mark.parametrize("concept", ["thrombosis", "thrombophilia", "immobility"])
def test_thrombosis_risks_give_a_warning_card(knowledge: Knowledge, concept: str) -> None:
    history = with_problems(seed_history(), problem(concept, "c-t", ago(100)))
    assert "ivig-safety-thrombosis" in topics(history, knowledge)
    dose_object = start_card(history, knowledge).dose.evidence()
    assert dose_object is not None and dose_object["days"] == 5


def test_estrogen_therapy_is_a_thrombosis_risk(knowledge: Knowledge) -> None:
    pill = dose("estrogen", ago(10), "est-1", "0.03", route="oral", rtype="MedicationStatement")
    history = seed_history(dose_events=(*seed_history().dose_events, pill))
    assert "ivig-safety-thrombosis" in topics(history, knowledge)


def test_catheter_procedure_in_progress_is_a_thrombosis_risk(knowledge: Knowledge) -> None:
    line = ProcedureFact(
        "central-venous-catheter", ago(200), "in-progress", SourceRef("Procedure", "cvc")
    )
    history = seed_history(procedures=(*seed_history().procedures, line))
    assert "ivig-safety-thrombosis" in topics(history, knowledge)


def test_myocarditis_gives_cardiac_fluid_warning(knowledge: Knowledge) -> None:
    history = with_problems(seed_history(), problem("myocarditis", "c-myo", ago(10)))
    found = topics(history, knowledge)
    assert "ivig-safety-cardiac-fluid" in found


@pytest.mark.parametrize(("group", "note"), [("O", False), ("A", True), (None, True)])
def test_hemolysis_note_for_non_o_or_unknown_group(
    knowledge: Knowledge, group: str | None, note: bool
) -> None:
    results = (
        (CodedResult("blood-group", group, group, ago(9), SourceRef("Observation", "abo")),)
        if group
        else ()
    )
    assert ("hemolysis" in check_codes(seed_history(coded_results=results), knowledge)) is note


@pytest.mark.parametrize(("days", "note"), [(80, True), (100, False)])
def test_live_vaccine_within_3_months_is_a_note(
    knowledge: Knowledge, days: int, note: bool
) -> None:
    vaccine = ImmunizationFact(
        "live-vaccine", "MMR", None, ago(days), SourceRef("Immunization", "mmr")
    )
    codes = check_codes(seed_history(immunizations=(vaccine,)), knowledge)
    assert ("live-vaccine" in codes) is note


@pytest.mark.parametrize(
    ("days", "kind"), [(10, "vaccine-repeat"), (14, "vaccine-repeat"), (15, "vaccine")]
)
def test_a_live_vaccine_within_14_days_before_ivig_is_to_be_repeated(
    knowledge: Knowledge, days: int, kind: str
) -> None:
    vaccine = ImmunizationFact(
        "live-vaccine", "MMR", None, ago(days), SourceRef("Immunization", "mmr")
    )
    card = start_card(seed_history(immunizations=(vaccine,)), knowledge)
    check = next(c for c in card.safety_checks if c.code == "live-vaccine")
    assert [r.kind for r in check.reasons] == [kind]
    said = "repeat that dose 11 months after IVIG" in check_detail(check, knowledge.texts)
    assert said is (kind == "vaccine-repeat")


def _immunosuppressed(history: TherapyHistory, knowledge: Knowledge) -> str | None:
    """The agents the live-vaccine-immunosuppressed note names ("a+b"), or None."""
    card = start_card(history, knowledge)
    checks = [c for c in card.safety_checks if c.code == "live-vaccine-immunosuppressed"]
    return checks[0].reasons[0].concept if checks else None


def _mmr(days: int) -> tuple[ImmunizationFact, ...]:
    return (
        ImmunizationFact("live-vaccine", "MMR", None, ago(days), SourceRef("Immunization", "v")),
    )


def test_a_live_vaccine_on_methotrexate_and_high_dose_steroid_is_named(
    knowledge: Knowledge,
) -> None:
    history = seed_history(immunizations=_mmr(10))
    assert _immunosuppressed(history, knowledge) == "glucocorticoid-oral+methotrexate"
    check = next(
        c
        for c in start_card(history, knowledge).safety_checks
        if c.code == "live-vaccine-immunosuppressed"
    )
    line = knowledge.texts.safety_checks[check.code].text.format(
        detail=check_detail(check, knowledge.texts)
    )
    assert "vaccine-strain" in line and "methotrexate" in line and "prednisolone" in line


@pytest.mark.parametrize(
    ("run_days", "daily_mg", "named"),
    [
        (13, "30", False),  # >= 20 mg/day, but only 13 days by the vaccine date
        (14, "30", True),
        (30, "15", False),  # 15 mg/day = 0.58 mg/kg/day: neither >= 20 mg nor >= 2 mg/kg
        (30, "60", True),
    ],
)
def test_high_dose_steroid_needs_14_days_by_the_vaccine_date(
    knowledge: Knowledge, run_days: int, daily_mg: str, named: bool
) -> None:
    course = glucocorticoid((ago(20 + run_days), daily_mg))
    history = seed_history(immunizations=_mmr(20), glucocorticoid=course, dose_events=())
    agents = _immunosuppressed(history, knowledge)
    assert agents == ("glucocorticoid-oral" if named else None)


def test_a_stopped_steroid_course_is_not_guessed_to_cover_the_vaccine(
    knowledge: Knowledge,
) -> None:
    course = glucocorticoid((ago(60), "40"), current=False)
    history = seed_history(immunizations=_mmr(20), glucocorticoid=course, dose_events=())
    assert _immunosuppressed(history, knowledge) is None


def test_migraine_is_a_note(knowledge: Knowledge) -> None:
    history = with_problems(seed_history(), problem("migraine", "c-mig", ago(400)))
    assert check_codes(history, knowledge)["migraine"] == Effect.NOTE


def test_safety_warnings_also_fire_while_on_ivig(knowledge: Knowledge) -> None:
    history = seed_history(ivig_courses=(ivig_course(ago(weeks=2), "ivig-now"),))
    history = with_measurements(history, measure("egfr", "45", ago(1), "egfr-2"))
    assert context_for(history, knowledge).ivig_in_play
    assert "ivig-safety-renal" in topics(history, knowledge)


def test_safety_warnings_silent_when_ivig_not_in_play(knowledge: Knowledge) -> None:
    history = seed_history()
    history = replace(history, problems=tuple(p for p in history.problems if p.concept == "jdm"))
    history = with_measurements(
        history, measure("egfr", "45", ago(1), "egfr-2"), measure("cmas", "50", ago(1), "cmas-9")
    )
    assert topics(history, knowledge) == set()


def test_an_infusion_dated_in_the_future_is_not_counted_as_recent(knowledge: Knowledge) -> None:
    course = ivig_course(NOW + timedelta(days=3), "ivig-future")
    assert "ivig-start" in topics(seed_history(ivig_courses=(course,)), knowledge)


def test_cardiac_card_quotes_the_capped_course_volume(knowledge: Knowledge) -> None:
    history = with_problems(
        with_measurements(without(seed_history(), "weight"), measure("weight", "40", ago(1), "w")),
        problem("heart-failure", "c-hf", ago(30)),
    )
    card = next(
        f for f in run(safety, history, knowledge) if f.topic == "ivig-safety-cardiac-fluid"
    )
    assert words(card, knowledge)["fluid_volume"] == ": 700 mL for this course (70 g)"


def test_a_renal_problem_is_named_as_on_the_problem_list(knowledge: Knowledge) -> None:
    from cds_service.card_builder.safety_text import check_detail

    history = with_problems(seed_history(), problem("renal-impairment", "c-ckd", ago(90)))
    (renal,) = [c for c in context_for(history, knowledge).safety_checks if c.code == "renal"]
    assert check_detail(renal, knowledge.texts) == "renal-impairment on the problem list"
