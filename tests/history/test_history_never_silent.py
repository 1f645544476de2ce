"""Never silent (docs/clinical/decision-model.md, never silent): findings wherever they are
recorded, and what no value set matches named when it could change advice.

Each test is one pattern seen in real records: a red flag coded as an Observation or written in
free text, an intravenous drug or an immune globulin the service does not know, a severe allergy
to an unclassified agent, immune globulin with or without a route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from history_helpers import PATIENT, administration, condition, medication, patient

from cds_service.history.model import MatchKind, TherapyHistory

Build = Callable[..., TherapyHistory]
SNOMED, LOINC = "http://snomed.info/sct", "http://loinc.org"
DYSPHAGIA = "40739000"
IV, SC = "47625008", "34206005"


def _finding(rid: str, code: dict[str, Any], at: str = "2026-03-10", **value: Any) -> dict:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": code,
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": at,
        **value,
    }


def _active(history: TherapyHistory, concept: str) -> list[str]:
    return [p.source.resource_id for p in history.active_problems(concept)]


# --- findings recorded as Observations -----------------------------------------------------


def test_an_observation_coded_as_the_finding_is_an_active_problem(build: Build) -> None:
    found = _finding("o1", {"coding": [{"system": SNOMED, "code": DYSPHAGIA}]})
    history = build(patient(), found)
    (problem,) = history.problems
    assert (problem.concept, problem.active, problem.matched_by) == (
        "dysphagia",
        True,
        MatchKind.CODE,
    )
    assert problem.source.reference == "Observation/o1"


def test_a_symptom_observation_valued_with_the_finding_counts(build: Build) -> None:
    symptom = {"coding": [{"system": LOINC, "code": "75325-1", "display": "Symptom"}]}
    found = _finding(
        "o2", symptom, valueCodeableConcept={"coding": [{"system": SNOMED, "code": DYSPHAGIA}]}
    )
    assert _active(build(patient(), found), "dysphagia") == ["o2"]


def test_a_finding_recorded_as_absent_is_no_finding(build: Build) -> None:
    code = {"coding": [{"system": SNOMED, "code": DYSPHAGIA}]}
    no = {"coding": [{"system": SNOMED, "code": "373067005", "display": "No"}]}
    history = build(
        patient(),
        _finding("f1", code, valueBoolean=False),
        _finding("f2", code, valueCodeableConcept=no),
        _finding("f3", code, valueString="absent"),
    )
    assert history.problems == () and history.data_quality == ()


def test_an_old_observed_finding_is_not_current(build: Build) -> None:
    found = _finding("o3", {"coding": [{"system": SNOMED, "code": DYSPHAGIA}]}, at="2025-09-01")
    (problem,) = build(patient(), found).problems
    assert problem.active is False  # older than cards/history.json observed_finding_active_days


# --- findings in free text ----------------------------------------------------------------


def test_free_text_names_a_red_flag_and_is_quoted(build: Build) -> None:
    note = {"coding": [{"system": LOINC, "code": "8661-1", "display": "Chief complaint"}]}
    said = _finding("t1", note, valueString="Trouble swallowing, coughing with drinks. Tired.")
    history = build(patient(), said)
    (problem,) = history.problems
    assert (problem.concept, problem.matched_by, problem.active) == (
        "dysphagia",
        MatchKind.TEXT,
        True,
    )
    assert problem.quote == "Trouble swallowing, coughing with drinks"


def test_a_condition_note_can_name_a_red_flag(build: Build) -> None:
    jdm = condition(
        "c1",
        "http://hl7.org/fhir/sid/icd-10-cm",
        "M33.00",
        note=[{"text": "Hoarse voice since last week.", "time": "2026-03-12"}],
    )
    history = build(patient(), jdm)
    assert {p.concept for p in history.active_problems("dysphonia")} == {"dysphonia"}
    assert [p.concept for p in history.active_problems("jdm")] == ["jdm"]


def test_a_denied_red_flag_is_named_not_counted(build: Build) -> None:
    text = {"text": "Review of systems"}
    history = build(patient(), _finding("t2", text, valueString="Denies trouble swallowing."))
    assert history.problems == ()
    (note,) = history.data_quality
    assert (note.category, note.concept) == ("free-text", "dysphagia")
    assert "“Denies trouble swallowing”" in note.reason


def test_a_loinc_test_name_is_not_read_as_a_finding(build: Build) -> None:
    # the words of a LOINC-coded test are the test's, not the patient's
    study = {"coding": [{"system": LOINC, "code": "99999-9", "display": "Dysphagia panel"}]}
    history = build(patient(), _finding("t3", study, valueQuantity={"value": 1}))
    assert history.problems == ()


# --- medications no value set matches ---------------------------------------------------


def test_an_unknown_intravenous_drug_given_recently_is_named(build: Build) -> None:
    given = administration("a1", medication(text="Zylotrex 40 mg"), "2026-03-01", 40, "mg", IV)
    history = build(patient(), given)
    (note,) = history.data_quality
    assert note.category == "unread-medication" and note.concept is None
    assert note.reason == "an intravenous medicine the service does not recognise: “Zylotrex 40 mg”"
    assert note.at is not None and note.at.date().isoformat() == "2026-03-01"


def test_an_unknown_oral_drug_or_an_old_infusion_is_not_named(build: Build) -> None:
    oral = administration(
        "a2", medication(text="Zylotrex 40 mg"), "2026-03-01", 40, "mg", "26643006"
    )
    old = administration("a3", medication(text="Zylotrex 40 mg"), "2025-06-01", 40, "mg", IV)
    history = build(patient(), oral, old)
    assert history.data_quality == ()
    assert history.unmatched_counts == {"MedicationAdministration": 2}


def test_an_immune_globulin_by_any_route_unknown_to_the_service_is_named(build: Build) -> None:
    odd = administration(
        "a4", medication(text="Gammaglobulin Local Brand"), "2026-03-01", 20, "g", None
    )
    (note,) = build(patient(), odd).data_quality
    assert note.reason.startswith("an immune globulin the service does not recognise")


# --- immune globulin and its route ------------------------------------------------------


def test_immune_globulin_is_ivig_only_when_given_intravenously(build: Build) -> None:
    iv = administration("g1", medication(text="immune globulin"), "2026-03-01", 20, "g", IV)
    sc = administration("g2", medication(text="immune globulin"), "2026-03-08", 4, "g", SC)
    history = build(patient(), iv, sc)
    assert [e.source.resource_id for e in history.doses("ivig")] == ["g1"]
    (note,) = history.data_quality
    assert (note.resource_id, note.reason) == (
        "g2",
        "immune globulin given by the subcutaneous route: not IVIG",
    )


def test_immune_globulin_without_a_route_is_not_ivig_and_is_named(build: Build) -> None:
    unknown = administration("g3", medication(text="immune globulin"), "2026-03-01", 20, "g", None)
    history = build(patient(), unknown)
    assert history.doses("ivig") == ()
    (note,) = history.data_quality
    assert (note.category, note.concept) == ("route", "ivig")
    assert note.at is not None  # dated: the IVIG draft is withheld while it is recent


def test_a_name_that_says_intravenous_is_enough(build: Build) -> None:
    brand = administration("g4", medication(text="Privigen 10 %"), "2026-03-01", 20, "g", None)
    words = administration(
        "g5", medication(text="immune globulin intravenous 10 %"), "2026-03-02", 20, "g", None
    )
    assert len(build(patient(), brand, words).doses("ivig")) == 2


# --- allergies no value set matches ------------------------------------------------------


def _allergy(rid: str, agent: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "id": rid,
        "patient": {"reference": f"Patient/{PATIENT}"},
        "code": {"text": agent},
        "recordedDate": "2025-01-10",
        **extra,
    }


def test_a_severe_allergy_to_an_unclassified_agent_is_named(build: Build) -> None:
    anaphylaxis = [{"manifestation": [{"text": "Anaphylaxis"}]}]
    history = build(
        patient(),
        _allergy("al1", "Zylotrex", reaction=anaphylaxis),
        _allergy("al2", "Sulfa drugs", criticality="high"),
        _allergy("al3", "Peanut", criticality="high", category=["food"]),
        _allergy("al4", "Plaster", reaction=[{"severity": "mild"}]),
    )
    assert [(n.resource_id, n.category) for n in history.data_quality] == [
        ("al1", "unread-allergy"),
        ("al2", "unread-allergy"),
    ]
    assert history.data_quality[0].reason == (
        "severe, to an agent the service does not classify: “Zylotrex” (Anaphylaxis)"
    )


RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _coded(code: str) -> dict[str, Any]:
    return {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]}}


def test_a_product_code_alone_is_ivig_when_the_product_is_for_intravenous_use(
    build: Build,
) -> None:
    # RxNorm 2102433 "immune globulin intravenous (human) - ifas": no words in the record at all
    given = administration("p1", _coded("2102433"), "2026-03-01", 20, "g", None)
    assert [e.source.resource_id for e in build(patient(), given).doses("ivig")] == ["p1"]


def test_a_product_for_iv_or_sc_use_needs_its_route(build: Build) -> None:
    # RxNorm 42697 Gammagard (Liquid: intravenous or subcutaneous): route-required in ivig.json
    by_vein = administration("p2", _coded("42697"), "2026-03-01", 20, "g", IV)
    under_skin = administration("p3", _coded("42697"), "2026-03-05", 4, "g", SC)
    unknown = administration("p4", _coded("42697"), "2026-03-09", 4, "g", None)
    history = build(patient(), by_vein, under_skin, unknown)
    assert [e.source.resource_id for e in history.doses("ivig")] == ["p2"]
    assert {n.resource_id: n.category for n in history.data_quality} == {
        "p3": "other",
        "p4": "route",
    }
