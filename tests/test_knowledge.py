"""The knowledge base: valid as shipped; a bad file stops loading naming the file and the field;
`jdm-cds check-knowledge` runs the same validation."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cds_service.commands.cli import main
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.loader import Knowledge, load_knowledge
from cds_service.knowledge.thresholds import REQUIRED_THRESHOLDS

CARDS = Path(__file__).resolve().parent.parent / "cards"


@pytest.fixture
def cards_copy(tmp_path: Path) -> Path:
    target = tmp_path / "cards"
    shutil.copytree(CARDS, target)
    return target


def edit(path: Path, change: Callable[[Any], None]) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


@pytest.fixture(scope="module")
def shipped() -> Knowledge:
    return load_knowledge(CARDS)


def test_shipped_knowledge_loads_with_every_threshold_sourced(shipped: Knowledge) -> None:
    knowledge = shipped
    assert set(REQUIRED_THRESHOLDS) <= set(knowledge.thresholds)
    for threshold in knowledge.thresholds.values():
        assert threshold.source == "design default" or threshold.source in knowledge.sources
    assert knowledge.threshold("methotrexate_adequate_trial_weeks").value == 12
    assert knowledge.threshold("egfr_renal_hard_stop").value == 30


def test_every_summary_template_fits_before_filling(shipped: Knowledge) -> None:
    for topic in shipped.texts.topics.values():
        for template in topic.summaries.values():
            assert len(template) <= 139


@pytest.mark.parametrize(
    ("file_name", "change", "expected"),
    [
        (
            "thresholds.json",
            lambda d: d["thresholds"]["cmas_weakness"].update(value="forty-eight"),
            "thresholds.json: field thresholds.cmas_weakness.value",
        ),
        (
            "thresholds.json",
            lambda d: d["thresholds"].pop("ivig_recent_weeks"),
            "thresholds.json: field thresholds.ivig_recent_weeks: required threshold missing",
        ),
        (
            "thresholds.json",
            lambda d: d["thresholds"]["cmas_weakness"].update(source="NoSuchPaper"),
            "thresholds.json: field thresholds.cmas_weakness.source: unknown source key",
        ),
        (
            "card-texts.json",
            lambda d: d["topics"]["ivig-start"].update(indicator="urgent"),
            "card-texts.json: field topics.ivig-start.indicator",
        ),
        (
            "card-texts.json",
            lambda d: d["topics"]["ivig-start"]["links"].append("no-such-order-set"),
            "card-texts.json: field topics.ivig-start.links.3: no order set",
        ),
        (
            "card-texts.json",
            lambda d: d["topics"]["weight-needed"]["summary"].update(default="x" * 140),
            "card-texts.json: field topics.weight-needed.summary.default",
        ),
        (
            "card-texts.json",
            lambda d: d["safetyChecks"].pop("renal-severe"),
            "card-texts.json: field safetyChecks: the rule chooses between",
        ),
        (
            "sources.json",
            lambda d: d["sources"]["SHARE2017"].update(url="http://insecure.example"),
            "sources.json: field sources.SHARE2017.url",
        ),
    ],
)
def test_a_bad_file_names_file_and_field(
    cards_copy: Path, file_name: str, change: Callable[[Any], None], expected: str
) -> None:
    edit(cards_copy / file_name, change)
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(cards_copy)
    assert expected in str(raised.value)


def test_unreadable_json_is_named(cards_copy: Path) -> None:
    (cards_copy / "card-texts.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"card-texts\.json: not readable JSON"):
        load_knowledge(cards_copy)


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="knowledge folder not found"):
        load_knowledge(tmp_path / "nowhere")


def test_check_knowledge_command_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-knowledge", "--dir", str(CARDS)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("knowledge base OK")
    assert "card topics:   27" in out


def test_check_knowledge_command_names_the_fault(
    cards_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(cards_copy / "thresholds.json", lambda d: d["thresholds"].pop("cmas_red_flag"))
    assert main(["check-knowledge", "--dir", str(cards_copy)]) == 1
    err = capsys.readouterr().err
    assert "thresholds.json: field thresholds.cmas_red_flag" in err


def test_knowledge_is_frozen(shipped: Knowledge) -> None:
    knowledge = shipped
    with pytest.raises(AttributeError):
        knowledge.root = Path("/tmp")  # type: ignore[misc]
    with pytest.raises(TypeError):
        knowledge.thresholds["x"] = knowledge.thresholds["cmas_weakness"]  # type: ignore[index]


def test_the_history_policy_comes_from_the_knowledge_folder(cards_copy: Path) -> None:
    edit(cards_copy / "history.json", lambda d: d["parameters"]["pulse_min_mg"].update(value="300"))
    assert load_knowledge(cards_copy).history_policy.pulse_min_mg == 300


def test_a_broken_history_policy_stops_startup(cards_copy: Path) -> None:
    edit(cards_copy / "history.json", lambda d: d["parameters"].pop("pulse_min_mg"))
    with pytest.raises(KnowledgeError, match=r"history\.json"):
        load_knowledge(cards_copy)
