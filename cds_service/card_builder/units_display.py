"""UCUM unit codes as a clinician reads them on a card (``mL/min/{1.73_m2}`` -> ``mL/min/1.73 m²``),
and measured values to the precision a clinician writes them in.

The model keeps UCUM codes and exact values (they are exact and machine-checkable); only text
meant for people goes through here.

>>> quantity_text(120, "mL/min/{1.73_m2}")
'120 mL/min/1.73 m²'
>>> quantity_text(28, "{score}")
'28'
>>> measured_text(Decimal("39.780"), "umol/L"), measured_text(Decimal("4.10"), "mg/L")
('40 µmol/L', '4.1 mg/L')
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DISPLAY_UNITS = {
    "{score}": "",
    "mL/min/{1.73_m2}": "mL/min/1.73 m²",
    "10*9/L": "×10⁹/L",
    "umol/L": "µmol/L",
    "1": "",
}


# decimals a clinician writes a result in, by its canonical unit (an exact figure of the record,
# 39.780 µmol/L converted from 0.45 mg/dL, reads 40 µmol/L); a unit not listed keeps its digits
DISPLAY_DECIMALS = {
    "umol/L": 0,
    "U/L": 0,
    "mg/dL": 0,
    "mm/h": 0,
    "mL/min/{1.73_m2}": 0,
    "10*9/L": 0,
    "{score}": 0,
    "mg/L": 1,
    "g/dL": 1,
    "g/L": 0,
    "kg": 1,
    "cm": 1,
}


def measured_text(value: Decimal, unit: str | None) -> str:
    """A measured value with its unit, rounded to the decimals its unit is read in."""
    decimals = DISPLAY_DECIMALS.get(unit or "")
    if decimals is not None:
        value = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return quantity_text(format(value.normalize(), "f"), unit)


def display_unit(unit: str | None) -> str:
    """The unit for people; '' for a dimensionless score or no unit."""
    if not unit:
        return ""
    return DISPLAY_UNITS.get(unit, unit)


def quantity_text(value: Decimal | int | str, unit: str | None) -> str:
    shown = display_unit(unit)
    return f"{value} {shown}" if shown else str(value)
