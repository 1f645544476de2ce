"""The examples in the dosing modules' docstrings are run, so they cannot drift from the code."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "cds_service.dosing.figures",
    "cds_service.dosing.growth",
    "cds_service.history.body",
    "cds_service.dosing.vials",
    "cds_service.dosing.weight",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name: str) -> None:
    result = doctest.testmod(importlib.import_module(module_name))
    assert result.attempted > 0
    assert result.failed == 0
