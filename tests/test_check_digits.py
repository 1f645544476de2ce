"""Check digits of SNOMED CT ids and LOINC codes; the loader refuses codes that cannot exist."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cds_service.commands.cli import main
from cds_service.knowledge.check_digits import (
    code_problem,
    coding_problems,
    loinc_problem,
    luhn_check_digit,
    sctid_problem,
    verhoeff_check_digit,
    verhoeff_valid,
)
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.loader import load_knowledge

CARDS = Path(__file__).resolve().parent.parent / "cards"
LOINC = "http://loinc.org"


@pytest.mark.parametrize(
    "sctid",
    [
        "138875005",  # SNOMED CT concept (the root)
        "404684003",  # Clinical finding
        "1212005",  # Childhood type dermatomyositis
        "47625008",  # Intravenous route
        "311671000119100",  # long form: US extension namespace
        "4763311000001100",  # long form: a dm+d (UK drug extension) id
    ],
)
def test_real_snomed_ids_pass(sctid: str) -> None:
    assert verhoeff_valid(sctid)
    assert sctid_problem(sctid) is None


def test_238091003_fails_the_verhoeff_check() -> None:
    assert not verhoeff_valid("238091003")
    assert verhoeff_check_digit("23809100") == 6
    assert sctid_problem("238091003") == "fails the SNOMED CT Verhoeff check digit (expected 6)"


def test_every_single_digit_change_is_caught() -> None:
    # Verhoeff catches every single-digit error and every swap of neighbours
    good = "404684003"
    for position in range(len(good)):
        for digit in "0123456789":
            changed = good[:position] + digit + good[position + 1 :]
            assert verhoeff_valid(changed) == (changed == good)
    swapped = "4046840" + "30"  # the last two digits exchanged
    assert not verhoeff_valid(swapped)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("0138875005", "is not a SNOMED CT identifier"),  # leading zero
        ("12345", "is not a SNOMED CT identifier"),  # too short
        ("1388750O5", "is not a SNOMED CT identifier"),  # a letter O
        ("12345611" + str(verhoeff_check_digit("12345611")), "has partition 11"),  # a description
    ],
)
def test_malformed_snomed_ids_are_named(code: str, problem: str) -> None:
    if "partition" in problem:
        assert verhoeff_valid(code)
    assert (sctid_problem(code) or "").startswith(problem)


@pytest.mark.parametrize("code", ["29463-7", "2160-0", "1761-6", "13946-9", "50384-7", "8302-2"])
def test_real_loinc_codes_pass(code: str) -> None:
    assert loinc_problem(code) is None


def test_loinc_check_digit_is_mod_10() -> None:
    assert luhn_check_digit("29463") == 7
    assert luhn_check_digit("2160") == 0
    # aldolase: the 1761-9 of an early brief has a wrong check digit
    assert loinc_problem("1761-9") == "fails the LOINC mod-10 check digit (expected 6)"
    assert (loinc_problem("29463") or "").startswith("is not a LOINC code")
    assert loinc_problem("LA6576-8") is None  # answer codes: not checked


def test_only_systems_with_check_digits_are_checked() -> None:
    assert code_problem("http://snomed.info/sct", "238091003")
    assert code_problem("https://dmd.nhs.uk", "238091003")  # dm+d ids are SNOMED CT ids
    assert code_problem(LOINC, "1761-9")
    assert code_problem("http://www.nlm.nih.gov/research/umls/rxnorm", "238091003") is None
    assert code_problem("http://hl7.org/fhir/sid/icd-10", "M33.0") is None


def test_codings_anywhere_in_a_document_are_found() -> None:
    document = {"a": [{"code": {"coding": [{"system": LOINC, "code": "1761-9"}]}}]}
    assert list(coding_problems(document)) == [
        (
            ("a", 0, "code", "coding", 0, "code"),
            "1761-9 fails the LOINC mod-10 check digit (expected 6)",
        )
    ]


# --- the loader refuses such a code, naming file and field -----------------------------------


@pytest.fixture
def cards_copy(tmp_path: Path) -> Path:
    target = tmp_path / "cards"
    shutil.copytree(CARDS, target)
    return target


def _edit(path: Path, change: Any) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def _include(document: dict[str, Any], system: str) -> int:
    return next(
        i for i, inc in enumerate(document["compose"]["include"]) if inc["system"] == system
    )


def test_a_value_set_with_a_bad_snomed_id_is_refused(cards_copy: Path) -> None:
    path = cards_copy / "valuesets" / "jdm.json"
    index = _include(json.loads(path.read_text()), "http://snomed.info/sct")
    _edit(path, lambda d: d["compose"]["include"][index]["concept"][0].update(code="238091003"))
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(cards_copy)
    assert (
        f"valuesets/jdm.json: field compose.include.{index}.concept.0.code: 238091003 fails the "
        "SNOMED CT Verhoeff check digit" in str(raised.value)
    )


def test_a_value_set_with_a_bad_loinc_code_is_refused(cards_copy: Path) -> None:
    _edit(
        cards_copy / "valuesets" / "aldolase.json",
        lambda d: d["compose"]["include"][0]["concept"][0].update(code="1761-9"),
    )
    with pytest.raises(KnowledgeError, match=r"aldolase\.json: field compose\.include\.0\.concept"):
        load_knowledge(cards_copy)


def test_an_order_set_with_a_bad_loinc_code_is_refused(cards_copy: Path) -> None:
    path = cards_copy / "order-sets" / "ivig-baseline.json"
    document = json.loads(path.read_text())
    field, _ = next(
        (field, problem) for field, problem in coding_problems(_with_bad_loinc(document))
    )
    path.write_text(json.dumps(document))
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(cards_copy)
    shown = ".".join(map(str, field))
    assert f"ivig-baseline.json: field {shown}: " in str(raised.value)
    assert "fails the LOINC mod-10 check digit" in str(raised.value)


def _with_bad_loinc(node: Any) -> Any:
    """Changes the first LOINC coding's check digit (in place) and returns the document."""

    def first(value: Any) -> dict[str, Any] | None:
        if isinstance(value, dict):
            if value.get("system") == LOINC and isinstance(value.get("code"), str):
                return value
            values = list(value.values())
        elif isinstance(value, list):
            values = value
        else:
            return None
        return next((found for v in values if (found := first(v)) is not None), None)

    coding = first(node)
    assert coding is not None
    number, check = coding["code"].split("-")
    coding["code"] = f"{number}-{(int(check) + 1) % 10}"
    return node


def test_a_bad_route_code_in_history_json_is_refused(
    cards_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(
        cards_copy / "history.json",
        lambda d: d["routes"]["intravenous"]["codes"].__setitem__(
            0, "http://snomed.info/sct|47625009"
        ),
    )
    assert main(["check-knowledge", "--dir", str(cards_copy)]) == 1
    err = capsys.readouterr().err
    assert "history.json: field routes.intravenous.codes.0: 47625009 fails the SNOMED CT" in err
