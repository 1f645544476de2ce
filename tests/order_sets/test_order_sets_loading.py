"""Order sets load as valid FHIR; a broken file stops loading with its file and field named."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.plandefinition import PlanDefinition

from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.order_sets import ORDER_SET_IDS, load_order_sets

REPO = Path(__file__).resolve().parents[2]
CARDS = REPO / "cards"

# Codes VERIFIED in docs/clinical/codes.md / docs/clinical/codes.md, and SNOMED 29303009 (ECG), seen
# with its display in
# HL7/cimi-vital-signs (2026-11-25); an order set must not use a code outside this list unless it
# marks it as a candidate.
VERIFIED = {
    ("http://loinc.org", code)
    for code in (
        "8302-2 29463-7 718-7 882-1 13946-9 2160-0 2458-8 2157-6 1761-6 2532-0 1920-8 1742-6 "
        "4537-7 1988-5 24702-3 86395-1"
    ).split()
} | {("http://snomed.info/sct", code) for code in ("308452008", "40701008", "23426006", "29303009")}


@pytest.fixture(scope="module")
def order_sets() -> Any:
    return load_order_sets(CARDS / "order-sets")


def test_all_five_load_in_clinical_order(order_sets: Any) -> None:
    assert tuple(order_sets) == ORDER_SET_IDS
    for order_set in order_sets.values():
        resource = order_set.as_fhir()
        PlanDefinition.model_validate(resource)
        assert resource["type"]["coding"][0]["code"] == "order-set"
        assert resource["status"] == "active"
        assert order_set.citations, order_set.id


def test_baseline_holds_what_order_sets_md_lists(order_sets: Any) -> None:
    baseline = order_sets["ivig-baseline"]
    for item_id in ("height", "weight", "fbc", "blood-group", "creatinine", "iga", "ck", "crp"):
        assert item_id in baseline.item_ids
    assert baseline.item("iga").codes[0].code == "2458-8"
    assert baseline.item("blood-group").codes[0].code == "882-1"  # ABO+Rh, not 883-9


def test_codes_are_verified_or_marked_candidate(order_sets: Any) -> None:
    for order_set in order_sets.values():
        for item in order_set.items:
            assert item.text
            for code in item.codes:
                if code.status != "candidate":
                    assert (code.system, code.code) in VERIFIED, (order_set.id, item.id)


def test_unverified_codes_are_marked(order_sets: Any) -> None:
    ecg = order_sets["jdm-extramuscular"].item("ecg").codes[0]
    assert (ecg.code, ecg.status, ecg.verified) == ("29303009", "verified", True)
    ivig = order_sets["ivig-infusion"].item("ivig")
    assert ivig.kind == "MedicationRequest"
    assert ivig.codes[0].status == "candidate"


def test_as_fhir_returns_a_copy(order_sets: Any) -> None:
    first = order_sets["ivig-baseline"].as_fhir()
    first["title"] = "changed"
    assert order_sets["ivig-baseline"].as_fhir()["title"] != "changed"


Edit = Callable[[dict[str, Any]], None]


@pytest.fixture
def cards_copy(tmp_path: Path) -> Path:
    shutil.copytree(CARDS / "order-sets", tmp_path / "order-sets")
    shutil.copytree(CARDS / "schemas", tmp_path / "schemas")
    shutil.copy(CARDS / "sources.json", tmp_path)
    return tmp_path


def _edit(cards: Path, order_set_id: str, edit: Edit) -> Path:
    path = cards / "order-sets" / f"{order_set_id}.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    edit(raw)
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def _action0(key: str, value: Any) -> Edit:
    return lambda raw: raw["action"][0].__setitem__(key, value)


@pytest.mark.parametrize(
    ("edit", "field", "why"),
    [
        (_action0("definitionCanonical", "#ad-nowhere"), "action.0.definitionCanonical", "no "),
        (_action0("id", "Bad Id"), "action.0.id", "does not match"),
        (lambda raw: raw.__setitem__("status", "draft"), "status", "'active' was expected"),
        (lambda raw: raw.__setitem__("relatedArtifact", []), "relatedArtifact", "non-empty"),
        (
            lambda raw: raw["relatedArtifact"][0].__setitem__("label", "NoSuchPaper"),
            "relatedArtifact.0.label",
            "unknown source key",
        ),
        (lambda raw: raw.__setitem__("date", "yesterday"), "date", "FHIR R4B"),
        (
            lambda raw: raw["contained"][0]["code"]["coding"][0].__setitem__("extension", []),
            "contained.0.code.coding.0.extension",
            "contain",
        ),
        (
            lambda raw: raw["action"].append(dict(raw["action"][0])),
            "action.20.id",
            "duplicate",
        ),
    ],
)
def test_broken_order_set_names_file_and_field(
    cards_copy: Path, edit: Edit, field: str, why: str
) -> None:
    path = _edit(cards_copy, "ivig-baseline", edit)
    with pytest.raises(KnowledgeError) as raised:
        load_order_sets(cards_copy / "order-sets")
    message = str(raised.value)
    assert str(path) in message
    assert field in message
    assert why in message


def test_id_must_match_file_name(cards_copy: Path) -> None:
    source = cards_copy / "order-sets" / "ivig-baseline.json"
    source.rename(cards_copy / "order-sets" / "ivig-monitoring-2.json")
    with pytest.raises(KnowledgeError, match="differs from the file name"):
        load_order_sets(cards_copy / "order-sets")


def test_a_missing_order_set_stops_loading(cards_copy: Path) -> None:
    (cards_copy / "order-sets" / "jdm-extramuscular.json").unlink()
    with pytest.raises(KnowledgeError, match=r"missing order set.*jdm-extramuscular"):
        load_order_sets(cards_copy / "order-sets")
