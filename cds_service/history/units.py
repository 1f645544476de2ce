"""Unit conversion to each measurement's canonical unit, by exact factors only.

A unit not listed here is not converted by guess: the caller records a data-quality note.
Factors are exact by definition (1 [lb_av] = 0.45359237 kg, 1 [in_i] = 2.54 cm, 1 ukat = 60 U)
or the laboratory convention named beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

UCUM = "http://unitsofmeasure.org"

_ONE = Decimal(1)
_ENZYME = {"U/L": _ONE, "[IU]/L": _ONE, "IU/L": _ONE, "U/l": _ONE, "ukat/L": Decimal(60)}
_SCORE = {"{score}": _ONE, "{Score}": _ONE, "1": _ONE, "": _ONE, "{total}": _ONE, "score": _ONE}

# concept -> unit as recorded (UCUM code, or a common spelling of one) -> factor to canonical
FACTORS: Mapping[str, Mapping[str, Decimal]] = MappingProxyType(
    {
        "weight": {
            "kg": _ONE,
            "g": Decimal("0.001"),
            "[lb_av]": Decimal("0.45359237"),
            "lb": Decimal("0.45359237"),
            "lbs": Decimal("0.45359237"),
            "[oz_av]": Decimal("0.028349523125"),  # 1/16 lb, exact by definition
            "oz": Decimal("0.028349523125"),
        },
        "height": {
            "cm": _ONE,
            "m": Decimal(100),
            "mm": Decimal("0.1"),
            "[in_i]": Decimal("2.54"),
            "in": Decimal("2.54"),
        },
        "ck": _ENZYME,
        "aldolase": _ENZYME,
        "ldh": _ENZYME,
        "ast": _ENZYME,
        "alt": _ENZYME,
        "esr": {"mm/h": _ONE, "mm/hr": _ONE, "mm/(1.h)": _ONE},
        "crp": {"mg/L": _ONE, "mg/l": _ONE, "mg/dL": Decimal(10), "ug/mL": _ONE},
        "iga": {"mg/dL": _ONE, "g/L": Decimal(100), "mg/L": Decimal("0.1")},
        # mg/dL -> umol/L: the laboratory convention 88.4 (creatinine molar mass 113.12 g/mol)
        "creatinine": {
            "umol/L": _ONE,
            "µmol/L": _ONE,
            "mmol/L": Decimal(1000),
            "mg/dL": Decimal("88.4"),
        },
        "egfr": {
            "mL/min/{1.73_m2}": _ONE,
            "mL/min/1.73m2": _ONE,
            "mL/min/1.73 m2": _ONE,
            "mL/min/{1.73_m2}.": _ONE,
        },
        "hemoglobin": {"g/dL": _ONE, "g/L": Decimal("0.1"), "g/dl": _ONE},
        "platelets": {
            "10*9/L": _ONE,
            "10*3/uL": _ONE,
            "10^9/L": _ONE,
            "x10E3/uL": _ONE,
            "K/uL": _ONE,
            "10*3/mm3": _ONE,
        },
        "cmas": _SCORE,
        "mmt8": _SCORE,
    }
)


def conversion_factor(concept: str, unit_code: str | None, unit_text: str | None) -> Decimal | None:
    """Factor from the recorded unit to the concept's canonical unit; None when not known.

    The UCUM code wins; the free-text unit is used only when there is no code.
    """
    table = FACTORS.get(concept)
    if table is None:
        return None
    recorded = unit_code if unit_code is not None else unit_text
    if recorded is None:
        recorded = ""
    return table.get(recorded.strip())


def convert(
    concept: str, value: Decimal, unit_code: str | None, unit_text: str | None
) -> Decimal | None:
    factor = conversion_factor(concept, unit_code, unit_text)
    return None if factor is None else value * factor


_UCUM_SUFFIXES = ("_av", "_i", "_us", "_br")


def readable_unit(code: str) -> str:
    """A UCUM code as a clinician writes it: the brackets and the system suffix dropped.

    >>> readable_unit("[lb_av]"), readable_unit("[stone_av]"), readable_unit("kg")
    ('lb', 'stone', 'kg')
    """
    if not (code.startswith("[") and code.endswith("]")):
        return code
    inner = code[1:-1]
    for suffix in _UCUM_SUFFIXES:
        if inner.endswith(suffix):
            return inner.removesuffix(suffix)
    return inner
