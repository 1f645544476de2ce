"""FHIR R4 data types as plain JSON: Coding, CodeableConcept, Quantity, Reference, Period, Timing,
Dosage. Each leaves out what it is not given, so a builder writes only what a chart would hold."""

from __future__ import annotations

from typing import Any

from fhir_fixtures.builders.codes import (
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    OBSERVATION_CATEGORY,
    UCUM,
    Code,
)

Json = dict[str, Any]


def coding(code: Code) -> Json:
    """``{"system", "code", "display"}``; no display key when the code has none."""
    result: Json = {"system": code.system, "code": code.code}
    if code.display is not None:
        result["display"] = code.display
    return result


def concept(*codes: Code, text: str | None = None) -> Json:
    """A CodeableConcept: a coding per code (none: text only), then `text` when given."""
    result: Json = {}
    if codes:
        result["coding"] = [coding(code) for code in codes]
    if text is not None:
        result["text"] = text
    return result


def status_concept(system: str, code: str | Json | None) -> Json | None:
    """A status element: a code of `system` (no display), a CodeableConcept as given, or None."""
    if code is None or isinstance(code, dict):
        return code
    return concept(Code(system, code))


def condition_clinical(code: str | Json | None) -> Json | None:
    return status_concept(CONDITION_CLINICAL, code)


def condition_verification(code: str | Json | None) -> Json | None:
    return status_concept(CONDITION_VERIFICATION, code)


def observation_category(code: str) -> list[Json]:
    return [concept(Code(OBSERVATION_CATEGORY, code))]


def quantity(value: Any, unit: str | None = None) -> Json:
    """A UCUM Quantity (``unit`` is also its code); with no unit, the bare value."""
    if unit is None:
        return {"value": value}
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def reference_range(low: Any = None, high: Any = None, *, unit: str) -> Json:
    """One referenceRange: ``low`` and/or ``high`` in `unit`."""
    bounds: Json = {}
    if low is not None:
        bounds["low"] = quantity(low, unit)
    if high is not None:
        bounds["high"] = quantity(high, unit)
    return bounds


def reference(resource_type: str, resource_id: str) -> Json:
    return {"reference": f"{resource_type}/{resource_id}"}


def period(start: str, end: str | None = None) -> Json:
    result: Json = {"start": start}
    if end is not None:
        result["end"] = end
    return result


def human_name(family: str, *given: str) -> Json:
    return {"family": family, "given": list(given)}


def identifier(system: str, value: str) -> Json:
    return {"system": system, "value": value}


def timing(
    frequency: int = 1,
    period_length: float = 1,
    period_unit: str = "d",
    *,
    bounds: Json | None = None,
) -> Json:
    """``frequency`` times per ``period_length`` ``period_unit`` (once a day by default), within
    ``bounds`` (a Period) when given."""
    repeat: Json = {}
    if bounds is not None:
        repeat["boundsPeriod"] = bounds
    repeat.update(frequency=frequency, period=period_length, periodUnit=period_unit)
    return {"repeat": repeat}


def dosage(
    *,
    text: str | None = None,
    timing: Json | None = None,
    route: Json | None = None,
    dose: Json | None = None,
) -> Json:
    """A Dosage (MedicationRequest.dosageInstruction, MedicationStatement.dosage)."""
    result: Json = {}
    if text is not None:
        result["text"] = text
    if timing is not None:
        result["timing"] = timing
    if route is not None:
        result["route"] = route
    if dose is not None:
        result["doseAndRate"] = [{"doseQuantity": dose}]
    return result


def administration_dosage(*, route: Json | None = None, dose: Json | None = None) -> Json:
    """MedicationAdministration.dosage: the route and the dose that was given."""
    result: Json = {}
    if route is not None:
        result["route"] = route
    if dose is not None:
        result["dose"] = dose
    return result
