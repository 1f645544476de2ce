"""UCUM unit codes as a clinician reads them on a card (``mL/min/{1.73_m2}`` -> ``mL/min/1.73 m²``).

The model keeps UCUM codes (they are exact and machine-checkable); only text meant for people
goes through here.

>>> quantity_text(120, "mL/min/{1.73_m2}")
'120 mL/min/1.73 m²'
>>> quantity_text(28, "{score}")
'28'
"""

from __future__ import annotations

from decimal import Decimal

DISPLAY_UNITS = {
    "{score}": "",
    "mL/min/{1.73_m2}": "mL/min/1.73 m²",
    "10*9/L": "×10⁹/L",
    "umol/L": "µmol/L",
    "1": "",
}


def display_unit(unit: str | None) -> str:
    """The unit for people; '' for a dimensionless score or no unit."""
    if not unit:
        return ""
    return DISPLAY_UNITS.get(unit, unit)


def quantity_text(value: Decimal | int | str, unit: str | None) -> str:
    shown = display_unit(unit)
    return f"{value} {shown}" if shown else str(value)
