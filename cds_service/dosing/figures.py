"""Decimal helpers shared by the dosing modules: parsing and plain display strings."""

from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal) -> str:
    """A Decimal as a plain string without exponent or trailing zeros.

    >>> plain(Decimal("520")), plain(Decimal("10.40")), plain(Decimal("0.010"))
    ('520', '10.4', '0.01')
    """
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def percent(fraction: Decimal) -> str:
    """A fraction as a percentage with one decimal: ``percent(Decimal("0.0385")) == "3.8"``."""
    return plain((fraction * 100).quantize(Decimal("0.1")))
