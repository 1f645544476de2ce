"""The examples in cds_service's docstrings are run, so they cannot drift from the code.

Every module under cds_service/ whose source holds a ``>>>`` example is found and its examples
run (``doctest.testmod``); only those modules are imported (importing some others has effects,
e.g. the gunicorn config sets the metrics folder).
"""

from __future__ import annotations

import doctest
import importlib

import pytest

from cds_service.config import REPO_ROOT

PACKAGE = REPO_ROOT / "cds_service"
MODULES = sorted(
    ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
    for path in PACKAGE.rglob("*.py")
    if ">>>" in path.read_text(encoding="utf-8")
)


def test_the_modules_with_examples_are_found() -> None:
    # the dosing modules' examples were the first ones run (the body-size example lives in
    # history/body.py); the search must still find them, and history/dates.py's
    assert {
        "cds_service.dosing.figures",
        "cds_service.dosing.growth",
        "cds_service.dosing.vials",
        "cds_service.dosing.weight",
        "cds_service.history.body",
        "cds_service.history.dates",
    } <= set(MODULES)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name: str) -> None:
    result = doctest.testmod(importlib.import_module(module_name))
    assert result.attempted > 0
    assert result.failed == 0
