"""create_app: settings read once from CDS_* variables, knowledge checked at startup, clock."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from foundation_data import JDM_PATIENT_ID
from hook_requests import patient_view

import cds_service.web.hooks as hooks
from cds_service.app import create_app
from cds_service.config import REPO_ROOT, Settings, SettingsError
from cds_service.knowledge.errors import KnowledgeError
from cds_service.web.state import state
from fhir_fixtures.clocks import FROZEN_NOW


def test_settings_come_from_cds_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CDS_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    monkeypatch.setenv("CDS_FHIR_PAGE_SIZE", "77")
    app = create_app()
    monkeypatch.setenv("CDS_FHIR_PAGE_SIZE", "5")  # read once: later changes do not leak in
    settings = state(app).settings
    assert settings.fhir_page_size == 77
    assert (tmp_path / "env.sqlite3").exists()
    templates = app.test_client().get("/cds-services").get_json()["services"][0]["prefetch"]
    assert templates["conditions"].endswith("_count=77")


def test_an_unknown_or_bad_cds_variable_stops_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDS_NO_SUCH_SETTING", "1")
    with pytest.raises(SettingsError, match="CDS_NO_SUCH_SETTING"):
        create_app()
    monkeypatch.delenv("CDS_NO_SUCH_SETTING")
    monkeypatch.setenv("CDS_FHIR_PAGE_SIZE", "many")
    with pytest.raises(SettingsError, match="CDS_FHIR_PAGE_SIZE"):
        create_app()


def test_settings_object_and_mapping_are_accepted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    assert state(create_app(Settings(database_url=url))).settings.database_url == url
    assert (
        state(create_app({"database_url": url, "fhir_max_pages": "3"})).settings.fhir_max_pages == 3
    )


def test_a_broken_knowledge_base_stops_startup_with_its_message(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="not found"):
        create_app(
            {
                "knowledge_dir": str(tmp_path / "missing"),
                "database_url": f"sqlite:///{tmp_path / 'k.sqlite3'}",
            }
        )
    broken = tmp_path / "cards"
    shutil.copytree(REPO_ROOT / "cards", broken)
    valueset = next((broken / "valuesets").glob("*.json"))
    valueset.write_text("{ not json", encoding="utf-8")
    with pytest.raises(KnowledgeError) as raised:
        create_app(
            {"knowledge_dir": str(broken), "database_url": f"sqlite:///{tmp_path / 'k.sqlite3'}"}
        )
    assert valueset.name in str(raised.value)


def test_the_injected_clock_reaches_the_pipeline(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[datetime] = []
    real_evaluate = hooks.evaluate

    def recording_evaluate(*args: Any, **kw: Any) -> Any:
        seen.append(args[3])
        return real_evaluate(*args, **kw)

    monkeypatch.setattr(hooks, "evaluate", recording_evaluate)
    app = make_app()
    body = patient_view(
        JDM_PATIENT_ID, prefetch={"patient": {"resourceType": "Patient", "id": JDM_PATIENT_ID}}
    )
    assert app.test_client().post("/cds-services/jdm-ivig", json=body).status_code == 200
    assert seen == [FROZEN_NOW]
    assert seen[0].utcoffset() is not None and seen[0].utcoffset().total_seconds() != 0
