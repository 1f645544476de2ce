"""Fixtures for the rule and card tests: the knowledge base, loaded once."""

from __future__ import annotations

import pytest

from cds_service.config import REPO_ROOT
from cds_service.knowledge.loader import Knowledge, load_knowledge


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    """The knowledge base under cards/ (frozen: one load serves every test)."""
    return load_knowledge(REPO_ROOT / "cards")
