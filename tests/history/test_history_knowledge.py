"""Value sets and cards/history.json: loaded, validated, and refused with file + field named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from history_helpers import VALUESETS_DIR

from cds_service.config import REPO_ROOT
from cds_service.knowledge.concepts import AGENTS, MEASUREMENT_CONCEPTS, PROBLEM_CONCEPTS
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.history_policy import load_history_policy
from cds_service.knowledge.terminology import Terminology, load_terminology

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"


def test_every_model_concept_has_a_valueset(terminology: Terminology) -> None:
    for concept in (*PROBLEM_CONCEPTS, *MEASUREMENT_CONCEPTS, *AGENTS):
        assert terminology.info(concept).concept == concept


def test_codes_verify_corrections_are_applied(terminology: Terminology) -> None:
    assert terminology.concepts_for("http://loinc.org", "50384-7") == {"egfr"}  # Schwartz
    assert terminology.concepts_for("http://loinc.org", "50210-4") == frozenset()  # cystatin
    assert terminology.concepts_for("http://loinc.org", "883-9") == {"blood-group"}
    assert terminology.concepts_for("http://loinc.org", "1761-6") == {"aldolase"}


def test_codes_found_to_mean_something_else_are_not_in_the_value_sets(
    terminology: Terminology,
) -> None:
    # SNOMED 55929007 is "Feeling irritable" (a MedDRA map and two apps' code tables), not
    # dysphonia: as a dysphonia code it made irritability a red flag. 399122003 is "Swallowing
    # problem (finding)" (KBV value sets), not the "Oropharyngeal dysphagia" it was listed as.
    assert terminology.concepts_for(SNOMED, "55929007") == frozenset()
    assert terminology.concepts_for(SNOMED, "399122003") == frozenset()
    assert terminology.match_text("problem", "Dysphonia") == {"dysphonia"}  # names still match
    assert terminology.concepts_for(SNOMED, "40739000") == {"dysphagia"}


def test_products_map_to_their_ingredient_and_say_so(terminology: Terminology) -> None:
    entries = terminology.code_entries(RXNORM, "1743726")
    assert [(e.concept, e.product, e.dose_form) for e in entries] == [
        ("methylprednisolone-iv", True, "injection")
    ]
    assert not terminology.code_entries(RXNORM, "6902")[0].product


def test_provenance_is_recorded_for_every_code(terminology: Terminology) -> None:
    ivig = terminology.code_entries(RXNORM, "5665")[0]
    assert not ivig.verified and ivig.source
    weight = terminology.code_entries("http://loinc.org", "29463-7")[0]
    assert weight.verified and "canvas" in weight.source


def test_search_codes_per_resource_type(terminology: Terminology) -> None:
    observation_codes = terminology.search_codes("Observation")
    assert "http://loinc.org|29463-7" in observation_codes
    assert (
        "https://jdm-cds.example.org/fhir/CodeSystem/muscle-strength-scores|cmas"
        in observation_codes
    )
    assert not any(code.startswith(RXNORM) for code in observation_codes)
    assert f"{RXNORM}|6851" in terminology.search_codes("MedicationRequest")
    assert observation_codes == sorted(observation_codes)


@pytest.fixture
def valueset_copy(tmp_path: Path) -> Path:
    # a knowledge folder of its own: the value sets and the schema they are checked against
    target = tmp_path / "valuesets"
    shutil.copytree(VALUESETS_DIR, target)
    shutil.copytree(VALUESETS_DIR.parent / "schemas", tmp_path / "schemas")
    return target


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_schema_violation_names_file_and_field(valueset_copy: Path) -> None:
    _edit(valueset_copy / "ck.json", lambda d: d["expansion"]["contains"][0].update(code="2157 6"))
    with pytest.raises(KnowledgeError, match=r"ck\.json: field expansion\.contains\.0\.code"):
        load_terminology(valueset_copy)


def test_code_status_then_code_source_is_the_order(valueset_copy: Path) -> None:
    # fixed positions: checking them is cheap for thousands of codes ('contains' is not)
    _edit(
        valueset_copy / "ck.json",
        lambda d: d["compose"]["include"][0]["concept"][0]["extension"].reverse(),
    )
    with pytest.raises(
        KnowledgeError, match=r"ck\.json: field compose\.include\.0\.concept\.0\.extension\.0"
    ):
        load_terminology(valueset_copy)


def test_expansion_must_match_compose(valueset_copy: Path) -> None:
    _edit(valueset_copy / "ck.json", lambda d: d["expansion"]["contains"].pop())
    with pytest.raises(KnowledgeError, match="is not the expansion of compose"):
        load_terminology(valueset_copy)


def test_missing_concept_and_wrong_id_are_refused(valueset_copy: Path) -> None:
    (valueset_copy / "ivig.json").unlink()
    with pytest.raises(KnowledgeError, match=r"ivig\.json: file not found"):
        load_terminology(valueset_copy)
    shutil.copy(valueset_copy / "ck.json", valueset_copy / "ivig.json")
    with pytest.raises(KnowledgeError, match="is not the file name"):
        load_terminology(valueset_copy)


def test_history_policy_loads_and_refuses_bad_values(tmp_path: Path) -> None:
    policy = load_history_policy()
    assert (
        policy.pulse_min_mg == 250 and policy.glucocorticoid_factors["methylprednisolone"] == 1.25
    )
    shutil.copytree(REPO_ROOT / "cards" / "schemas", tmp_path / "schemas")
    document = json.loads((REPO_ROOT / "cards" / "history.json").read_text())
    document["parameters"]["pulse_min_mg"]["value"] = "a lot"
    (tmp_path / "history.json").write_text(json.dumps(document))
    with pytest.raises(KnowledgeError, match=r"field parameters\.pulse_min_mg\.value"):
        load_history_policy(tmp_path)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("problem", "Bone marrow aspiration", set()),  # a procedure, not the red flag
        ("problem", "Recurrent aspiration pneumonia", {"aspiration"}),
        ("problem", "Hoarseness", set()),  # laryngitis must not look like dysphonia
        ("problem", "Nasal voice (dysphonia)", {"dysphonia"}),
        ("agent", "Anti-D immunoglobulin", {"immune-globulin-other"}),  # hyperimmune: not IVIG
        ("agent", "Rho(D) immune globulin", {"immune-globulin-other"}),
        ("agent", "Hizentra 20% subcutaneous", {"immune-globulin-other"}),
        ("agent", "Gammagard Liquid 10%", {"ivig"}),
        ("agent", "Solu-Medrol 1 g IV", {"methylprednisolone-iv"}),
        ("agent", "Tacrolimus 0.1% ointment", set()),
        ("agent", "methylprednisolone", {"methylprednisolone-iv"}),  # the route decides later
        ("measurement", "MMT8 total score", {"mmt8"}),
        ("Observation", "CMAS", {"cmas"}),
    ],
)
def test_name_matching(terminology: Terminology, kind: str, text: str, expected: set[str]) -> None:
    assert terminology.match_text(kind, text) == expected
