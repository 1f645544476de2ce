"""Fixtures for the therapy-history tests: the terminology and a builder on the frozen clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from history_helpers import NOW, PATIENT, VALUESETS_DIR, unread_since

from cds_service.history.build import build_history
from cds_service.history.model import TherapyHistory
from cds_service.knowledge.terminology import Terminology, load_terminology


@pytest.fixture(scope="session")
def terminology() -> Terminology:
    return load_terminology(VALUESETS_DIR)


@pytest.fixture
def build(terminology: Terminology) -> Callable[..., TherapyHistory]:
    def _build(
        *resources: dict[str, Any], now: datetime = NOW, server: str | None = None
    ) -> TherapyHistory:
        return build_history(
            list(resources),
            PATIENT,
            terminology,
            now,
            server=server,
            unread_since=unread_since(now),
        )

    return _build


@pytest.fixture
def valueset_json() -> Callable[[str], dict[str, Any]]:
    """A value set file of cards/valuesets/ as JSON."""

    def _read(concept: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((VALUESETS_DIR / f"{concept}.json").read_text())
        return document

    return _read
