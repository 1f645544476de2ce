"""Codes that can exist: the check digits of SNOMED CT identifiers and LOINC codes.

A SNOMED CT identifier (SCTID) ends in a Verhoeff check digit over the digits before it, and the
two digits before the check digit are its partition: ``00`` or ``10`` for a concept (short form,
or long form with a namespace such as the UK drug extension, whose ids dm+d uses). A LOINC code
ends, after the hyphen, in a mod-10 (Luhn) check digit over the number before it. A code that
fails is no concept id and matches nothing, so the loader refuses it (naming file and field)
instead of keeping a code that can never be in a record.

>>> sctid_problem("138875005") is None, sctid_problem("238091003")
(True, 'fails the SNOMED CT Verhoeff check digit (expected 6)')
>>> loinc_problem("29463-7") is None, loinc_problem("1761-9")
(True, 'fails the LOINC mod-10 check digit (expected 6)')
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

SNOMED = "http://snomed.info/sct"
DMD = "https://dmd.nhs.uk"  # dm+d ids are SNOMED CT (UK drug extension) ids
LOINC = "http://loinc.org"

# Verhoeff's dihedral-group multiplication, permutation and inverse tables
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)

_SCTID = re.compile(r"^[1-9][0-9]{5,17}$")
_LOINC = re.compile(r"^([0-9]{1,7})-([0-9])$")
_LOINC_PART_OR_ANSWER = re.compile(r"^L[AP][0-9]{1,7}-[0-9]$")  # their check digit is not checked


def verhoeff_check_digit(digits: str) -> int:
    """The Verhoeff check digit to append to `digits` (a string of decimal digits)."""
    check = 0
    for position, digit in enumerate(reversed(digits), start=1):
        check = _D[check][_P[position % 8][int(digit)]]
    return _INV[check]


def verhoeff_valid(number: str) -> bool:
    """Whether the last digit of `number` is the Verhoeff check digit of the others."""
    return (
        number.isdigit()
        and len(number) > 1
        and verhoeff_check_digit(number[:-1]) == int(number[-1])
    )


def luhn_check_digit(digits: str) -> int:
    """The mod-10 check digit LOINC uses: double every other digit from the right, sum digits."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10


def sctid_problem(code: str) -> str | None:
    """Why `code` cannot be a SNOMED CT concept id, or None when it can."""
    if not _SCTID.match(code):
        return "is not a SNOMED CT identifier (6 to 18 digits, no leading zero)"
    expected = verhoeff_check_digit(code[:-1])
    if expected != int(code[-1]):
        return f"fails the SNOMED CT Verhoeff check digit (expected {expected})"
    if code[-3:-1] not in ("00", "10"):
        return f"has partition {code[-3:-1]}: a SNOMED CT id, but not of a concept"
    return None


def loinc_problem(code: str) -> str | None:
    """Why `code` cannot be a LOINC code, or None when it can."""
    match = _LOINC.match(code)
    if not match and _LOINC_PART_OR_ANSWER.match(code):
        return None
    if not match:
        return "is not a LOINC code (digits, a hyphen, a check digit)"
    number, check = match.groups()
    expected = luhn_check_digit(number)
    if expected != int(check):
        return f"fails the LOINC mod-10 check digit (expected {expected})"
    return None


def code_problem(system: str, code: str) -> str | None:
    """Why ``system|code`` cannot exist, for the systems with check digits; else None."""
    if system in (SNOMED, DMD):
        return sctid_problem(code)
    if system == LOINC:
        return loinc_problem(code)
    return None


def coding_problems(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(field path of ``code``, problem) for every Coding-shaped object under `node`."""
    if isinstance(node, Mapping):
        system, code = node.get("system"), node.get("code")
        if isinstance(system, str) and isinstance(code, str):
            problem = code_problem(system, code)
            if problem:
                yield (*path, "code"), f"{code} {problem}"
        for key, value in node.items():
            yield from coding_problems(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from coding_problems(value, (*path, index))
