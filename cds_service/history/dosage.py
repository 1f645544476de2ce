"""Reading a FHIR Dosage as EHRs write it: the dose of one administration, its schedule, route.

One reading for the therapy history and for the order-time checks:

* the dose comes from any ``doseAndRate`` entry (``doseQuantity``, or the high end of
  ``doseRange``): a mass (``mg``, ``g``, ``mg/kg``, ``mg/m2``, ``mg/kg/d`` ...) is taken as it is;
  a count (``{tbl}``, ``{pill}``, ``{capsule}``, ``1``) or a volume (``mL``) is turned into a
  mass with the product's strength (:func:`strength_of`: ``Medication.ingredient.strength``, else
  the strength in an RxNorm clinical-drug name, e.g. ``Methotrexate 2.5 MG Oral Tablet``);
* the schedule comes from ``timing.repeat`` (frequency per period, the more frequent reading of
  ``frequencyMax``/``periodMax``) or a coded ``timing.code`` (QD, BID, WK ...);
* the route comes from ``route`` by code, then by its words (``cards/history.json``).

Nothing is guessed: a dose that cannot be read is None, and the caller says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from cds_service.history.dates import to_datetime
from cds_service.knowledge.history_policy import HistoryPolicy
from cds_service.knowledge.terminology import normalise_text

_MASS_UNIT = re.compile(r"^(mg|g|ug|mcg)(?:/(kg|m2))?(?:/(d|day))?$")
MASS_TO_MG = {"mg": Decimal(1), "g": Decimal(1000), "ug": Decimal("0.001"), "mcg": Decimal("0.001")}
# units that count tablets, capsules, pens, vials ...: a strength per unit makes them a mass
COUNT_UNITS = frozenset(
    {
        "1",
        "{tbl}",
        "{tablet}",
        "{tablets}",
        "{pill}",
        "{capsule}",
        "{cap}",
        "{caplet}",
        "{dose}",
        "{unit}",
        "{vial}",
        "{pen}",
        "{syringe}",
        "{injection}",
        "tablet",
        "tablets",
        "tab",
        "tabs",
        "capsule",
        "capsules",
        "pill",
    }
)
VOLUME_UNITS = {"mL": Decimal(1), "ml": Decimal(1), "L": Decimal(1000), "l": Decimal(1000)}
# "2.5 MG Oral Tablet", "25 MG/ML Injectable Solution", "0.4 ML methotrexate 25 MG/ML ..."
_NAME_STRENGTH = re.compile(r"(\d+(?:\.\d+)?)\s*(MG|G|MCG|UG)(?:\s*/\s*(ML))?\b(?!\s*/\s*\d)")
_NAME_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_DAYS_PER_UNIT: dict[str, Decimal] = {
    "s": Decimal(1) / 86400,
    "min": Decimal(1) / 1440,
    "h": Decimal(1) / 24,
    "d": Decimal(1),
    "wk": Decimal(7),
    "mo": Decimal(30),
    "a": Decimal(365),
}
_DAILY_UNITS = frozenset({"s", "min", "h", "d"})  # schedules whose doses a day are stated
GTS_ABBREVIATION = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
# the code system's own definitions: (doses per day, weekly)
SCHEDULE_CODES: dict[str, tuple[Decimal, bool]] = {
    "QD": (Decimal(1), False),
    "AM": (Decimal(1), False),
    "PM": (Decimal(1), False),
    "BID": (Decimal(2), False),
    "TID": (Decimal(3), False),
    "QID": (Decimal(4), False),
    "Q4H": (Decimal(6), False),
    "Q6H": (Decimal(4), False),
    "Q8H": (Decimal(3), False),
    "Q12H": (Decimal(2), False),
    "QOD": (Decimal("0.5"), False),
    "WK": (Decimal(1) / 7, True),
}


@dataclass(frozen=True)
class Strength:
    """How much of the drug one unit holds: ``2.5 mg`` per tablet, ``25 mg`` per mL."""

    mg: Decimal
    per: str  # "count" (a tablet, capsule, pen ...) | "mL"
    source: str  # where it was read: "Medication.ingredient.strength" | "product name"


@dataclass(frozen=True)
class DoseSpec:
    """A dose quantity in a mass unit: ``30 mg/kg``, ``1 g``, ``15 mg/m2``, ``2 mg/kg/d``."""

    value: Decimal
    mass_unit: str  # mg | g | ug
    per: str | None  # kg | m2 | None
    per_day: bool
    as_written: str  # e.g. "2 {tbl} (x 2.5 mg = 5 mg)" when counted units were converted


@dataclass(frozen=True)
class Timing:
    """One dosage instruction's schedule."""

    doses_per_day: Decimal | None  # a daily or hourly schedule's doses a day; None otherwise
    weekly: bool  # once every 7 days
    start: datetime | None  # bounds start
    end: datetime | None  # bounds end
    count: int | None = None  # repeat.count: how many administrations in all
    per_week: Decimal | None = None  # administrations a week, any period (the more frequent
    # reading of frequencyMax / periodMax); None when the schedule says no frequency


@dataclass(frozen=True)
class DoseReading:
    """What one Dosage says about the dose, and what could not be read (for a note)."""

    spec: DoseSpec | None
    problem: str | None  # e.g. "dose in {tbl} and no strength of the product is known"


def read_dose(dosage: Any, strength: Strength | None) -> DoseReading:
    """The dose of one administration from any doseAndRate entry (or a MedicationAdministration's
    ``dose``); masses first, then counts and volumes converted with ``strength``."""
    quantities = _dose_quantities(dosage)
    if not quantities:
        return DoseReading(None, None)
    problems = []
    for quantity in quantities:
        spec = _mass_spec(quantity)
        if spec is not None:
            return DoseReading(spec, None)
    for quantity in quantities:
        spec, problem = _converted(quantity, strength)
        if spec is not None:
            return DoseReading(spec, None)
        if problem:
            problems.append(problem)
    return DoseReading(None, problems[0] if problems else "dose unit not a mass")


def _dose_quantities(dosage: Any) -> list[Any]:
    if dosage is None:
        return []
    if hasattr(dosage, "dose") and not hasattr(dosage, "doseAndRate"):
        return [dosage.dose] if dosage.dose is not None else []  # MedicationAdministration
    quantities = []
    for dose_and_rate in getattr(dosage, "doseAndRate", None) or []:
        if dose_and_rate.doseQuantity is not None:
            quantities.append(dose_and_rate.doseQuantity)
        elif dose_and_rate.doseRange is not None and dose_and_rate.doseRange.high is not None:
            quantities.append(dose_and_rate.doseRange.high)  # the most that may be given
    return quantities


def _unit(quantity: Any) -> str:
    return str(quantity.code or quantity.unit or "").strip()


def _value(quantity: Any) -> Decimal | None:
    if quantity is None or quantity.value is None:
        return None
    try:
        value = Decimal(quantity.value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return value if value.is_finite() and value >= 0 else None


def _mass_spec(quantity: Any) -> DoseSpec | None:
    value = _value(quantity)
    normalised = _unit(quantity).replace("(kg.d)", "kg/d").replace("(m2.d)", "m2/d")
    match = _MASS_UNIT.match(normalised)
    if value is None or not match:
        return None
    mass, per, day = match.groups()
    return DoseSpec(
        value=value,
        mass_unit="ug" if mass == "mcg" else mass,
        per=per,
        per_day=day is not None,
        as_written=f"{_plain(value)} {quantity.unit or normalised}",
    )


def _converted(quantity: Any, strength: Strength | None) -> tuple[DoseSpec | None, str | None]:
    value, unit = _value(quantity), _unit(quantity)
    kind = "count" if unit in COUNT_UNITS else ("mL" if unit in VOLUME_UNITS else None)
    if value is None or kind is None:
        return None, None
    if strength is None or strength.per != kind:
        shown = (unit or "units").strip("{}")  # a UCUM annotation, {tbl}, as its words
        return None, f"dose in {shown} and no strength of the product per {kind}"
    units = value * VOLUME_UNITS.get(unit, Decimal(1))
    mg = units * strength.mg
    shown = (quantity.unit or unit or "").strip("{}")  # a UCUM annotation as words: {pill} -> pill
    written = f"{_plain(value)} {shown} (x {_plain(strength.mg)} mg = {_plain(mg)} mg)"
    return DoseSpec(mg, "mg", None, False, written), None


def strength_of(medication: Any, names: str) -> Strength | None:
    """The product's strength per unit: its Medication's first ingredient strength in mg per
    unit, else the strength in its name (an RxNorm clinical drug: ``... 2.5 MG Oral Tablet``)."""
    for ingredient in getattr(medication, "ingredient", None) or []:
        ratio = getattr(ingredient, "strength", None)
        strength = _ratio_strength(ratio)
        if strength is not None:
            return strength
    return name_strength(names)


def _ratio_strength(ratio: Any) -> Strength | None:
    numerator, denominator = getattr(ratio, "numerator", None), getattr(ratio, "denominator", None)
    amount, per_value = _value(numerator), _value(denominator) if denominator else Decimal(1)
    if amount is None or not per_value:
        return None
    mass = _unit(numerator).lower()
    if mass not in MASS_TO_MG:
        return None
    per_unit = _unit(denominator) if denominator is not None else "1"
    kind = "count" if per_unit in COUNT_UNITS else ("mL" if per_unit in VOLUME_UNITS else None)
    if kind is None:
        return None
    per_units = per_value * VOLUME_UNITS.get(per_unit, Decimal(1))
    mg = amount * MASS_TO_MG[mass] / per_units
    return Strength(mg, kind, "Medication.ingredient.strength")


def name_strength(names: str) -> Strength | None:
    """The strength an RxNorm-style product name states, or None when it states none (or two).

    >>> name_strength("Methotrexate 2.5 MG Oral Tablet [Trexall]")
    Strength(mg=Decimal('2.5'), per='count', source='product name')
    >>> name_strength("methotrexate 25 MG/ML Injectable Solution").per
    'mL'
    >>> name_strength("Privigen 10 % Injectable Solution").mg
    Decimal('100')
    """
    upper = names.upper()
    found = {(m.group(1), m.group(2), m.group(3)) for m in _NAME_STRENGTH.finditer(upper)}
    if len(found) == 1:
        value, mass, per_ml = found.pop()
        mg = Decimal(value) * MASS_TO_MG[mass.lower()]
        return Strength(mg, "mL" if per_ml else "count", "product name")
    percents = {m.group(1) for m in _NAME_PERCENT.finditer(upper)}
    if not found and len(percents) == 1:  # w/v: 10 % = 10 g per 100 mL = 100 mg/mL
        return Strength(Decimal(percents.pop()) * 10, "mL", "product name")
    return None


def read_timing(timing: Any, zone: tzinfo) -> Timing:
    """Doses per day (the more frequent reading of a range), weekly or not, bounds and count."""
    repeat = getattr(timing, "repeat", None)
    coded = _coded_schedule(getattr(timing, "code", None))
    coded_timing = (
        Timing(None if coded[1] else coded[0], coded[1], None, None, None, coded[0] * 7)
        if coded
        else Timing(None, False, None, None)
    )
    if repeat is None:
        return coded_timing
    bounds = repeat.boundsPeriod
    start = to_datetime(getattr(bounds, "start", None), zone)
    end = to_datetime(getattr(bounds, "end", None), zone)
    count = int(repeat.count) if repeat.count is not None else None
    if repeat.period is None:
        return Timing(
            coded_timing.doses_per_day,
            coded_timing.weekly,
            start,
            end,
            count,
            coded_timing.per_week,
        )
    frequency = Decimal(int(repeat.frequency or 1))
    period = Decimal(repeat.period)
    unit = repeat.periodUnit
    weekly = frequency == 1 and ((unit == "wk" and period == 1) or (unit == "d" and period == 7))
    per_day: Decimal | None = None
    if period > 0 and unit in _DAILY_UNITS:
        per_day = frequency / (period * _DAYS_PER_UNIT[unit])
    return Timing(per_day, weekly, start, end, count, _per_week(repeat))


def _per_week(repeat: Any) -> Decimal | None:
    """Administrations a week, the more frequent reading: ``2-3 times a day`` is 21 a week,
    ``every 4-6 hours`` 42."""
    frequency = Decimal(int(repeat.frequencyMax or repeat.frequency or 1))
    period = Decimal(repeat.period)
    if repeat.periodMax is not None:
        period = min(period, Decimal(repeat.periodMax))
    days = _DAYS_PER_UNIT.get(repeat.periodUnit)
    if days is None or period <= 0:
        return None
    return frequency * 7 / (period * days)


def _coded_schedule(codeable: Any) -> tuple[Decimal, bool] | None:
    """(doses per day, weekly) of an HL7 v3 GTSAbbreviation Timing.code (BID, QD, WK...)."""
    for coding in getattr(codeable, "coding", None) or []:
        code = str(coding.code or "").upper()
        if coding.system in (GTS_ABBREVIATION, None) and code in SCHEDULE_CODES:
            return SCHEDULE_CODES[code]
    return None


def route_of(codeable: Any, policy: HistoryPolicy) -> str | None:
    """The route a Dosage.route states, by code first, then by its words; None when unknown."""
    if codeable is None:
        return None
    for coding in codeable.coding or []:
        route = policy.route_codes.get(f"{coding.system}|{coding.code}")
        if route:
            return route
    words = [codeable.text or ""] + [c.display or "" for c in codeable.coding or []]
    text = normalise_text(" ; ".join(words))
    for name, route in policy.route_names.items():
        if f" {name} " in text:
            return route
    return None


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text
