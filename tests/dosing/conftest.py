from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dosing_helpers import policy

from cds_service.dosing import DosingPolicy


@pytest.fixture(scope="session")
def dosing_policy() -> DosingPolicy:
    return policy()
