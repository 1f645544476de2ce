from __future__ import annotations

import pytest
from dosing_helpers import DOSING_JSON, policy

from cds_service.dosing import DosingPolicy
from cds_service.knowledge.loader import load_knowledge
from cds_service.knowledge.texts import CardTexts


@pytest.fixture(scope="session")
def dosing_policy() -> DosingPolicy:
    return policy()


@pytest.fixture(scope="session")
def card_texts() -> CardTexts:
    """The card wording the dose arithmetic is written in."""
    return load_knowledge(DOSING_JSON.parent).texts
