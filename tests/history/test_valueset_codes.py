"""Codes as EHRs send them: the concepts they are matched to (docs/clinical/codes.md)."""

from __future__ import annotations

from cds_service.knowledge.terminology import Terminology

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
