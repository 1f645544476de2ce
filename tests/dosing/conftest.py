from __future__ import annotations

import pytest
from dosing_helpers import policy

from cds_service.dosing import DosingPolicy


@pytest.fixture(scope="session")
def dosing_policy() -> DosingPolicy:
    return policy()
