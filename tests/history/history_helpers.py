"""The therapy-history tests' words for FHIR resources (frozen clock: NOW), built with
:mod:`fhir_fixtures.builders`: codes without displays, dates as plain strings."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cds_service.config import REPO_ROOT
from fhir_fixtures import builders as b
from fhir_fixtures.builders import UCUM, Code
from fhir_fixtures.clocks import SCENARIO_NOW

NOW = SCENARIO_NOW
PATIENTS_DIR = REPO_ROOT / "fhir_fixtures" / "patients"
VALUESETS_DIR = REPO_ROOT / "cards" / "valuesets"
PATIENT = "p1"
__all__ = ["NOW", "PATIENT", "UCUM"]


def patient(**extra: Any) -> dict[str, Any]:
    return b.patient(PATIENT, birth_date="2016-11-02", **extra)


def observation(
    rid: str,
    system: str,
    code: str,
    value: Any,
    unit: str | None = "kg",
    at: str = "2026-03-10",
    status: str = "final",
    subject: str = PATIENT,
    **extra: Any,
) -> dict[str, Any]:
    """An Observation coded `system`/`code` (no display); `value` None: no value at all."""
    return b.observation(
        rid,
        subject,
        b.concept(Code(system, code)),
        effective=at,
        status=status,
        value_quantity=None if value is None else b.quantity(value, unit),
        **extra,
    )


def weight(
    rid: str, value: Any, unit: str = "kg", at: str = "2026-03-10", **extra: Any
) -> dict[str, Any]:
    return observation(rid, b.LOINC, b.WEIGHT.code, value, unit, at, **extra)


def height(rid: str, value: Any, unit: str = "cm", at: str = "2026-03-10") -> dict[str, Any]:
    return observation(rid, b.LOINC, b.HEIGHT.code, value, unit, at)


def medication(code: str | None = None, text: str | None = None) -> dict[str, Any]:
    """``{"medicationCodeableConcept": ...}``: an RxNorm code (no display) and/or a text."""
    concept = b.concept(*([Code(b.RXNORM, code)] if code else []), text=text or None)
    return {"medicationCodeableConcept": concept}


def _medication_elements(med: dict[str, Any]) -> dict[str, Any]:
    """The builders' medication arguments for `med`: what :func:`medication` gives, a
    ``{"medicationReference": ...}``, or ``{}`` (no medication at all)."""
    reference = med.get("medicationReference")
    return {
        "medication": med.get("medicationCodeableConcept"),
        "medication_reference": None if reference is None else reference["reference"],
    }


def _route(route: str | None) -> dict[str, Any] | None:
    return b.concept(Code(b.SNOMED, route)) if route else None


def administration(
    rid: str,
    med: dict[str, Any],
    at: str,
    dose: float,
    unit: str,
    route: str | None = "47625008",
    status: str = "completed",
) -> dict[str, Any]:
    """A given dose; `med` as :func:`_medication_elements` takes it, `route` a SNOMED code
    (intravenous by default; None: no route)."""
    return b.medication_administration(
        rid,
        PATIENT,
        effective=at,
        status=status,
        dosage=b.administration_dosage(route=_route(route), dose=b.quantity(dose, unit)),
        **_medication_elements(med),
    )


def order(
    rid: str,
    med: dict[str, Any],
    start: str,
    dose: float,
    unit: str,
    frequency: tuple[int, int, str] = (1, 1, "d"),
    status: str = "active",
    route: str = "26643006",
    **extra: Any,
) -> dict[str, Any]:
    """A MedicationRequest from `start` (oral, once a day by default)."""
    count, period, period_unit = frequency
    return b.medication_request(
        rid,
        PATIENT,
        med["medicationCodeableConcept"],
        authored=start,
        status=status,
        dosage=[
            b.dosage(
                timing=b.timing(count, period, period_unit, bounds=b.period(start)),
                route=_route(route),
                dose=b.quantity(dose, unit),
            )
        ],
        **extra,
    )


def condition(
    rid: str,
    system: str,
    code: str,
    clinical: str | None = "active",
    verification: str = "confirmed",
    **extra: Any,
) -> dict[str, Any]:
    return b.condition(
        rid,
        PATIENT,
        b.concept(Code(system, code)),
        clinical_status=clinical,
        verification_status=verification,
        **extra,
    )


def load_bundle(name: str) -> dict[str, Any]:
    return json.loads((PATIENTS_DIR / f"{name}.bundle.json").read_text(encoding="utf-8"))


def golden(name: str) -> Path:
    return PATIENTS_DIR / f"{name}.history.json"


def unread_since(now: datetime) -> datetime:
    """The start of the IVIG look-back the service screens unread records over (8 weeks:
    thresholds.json ivig_recent_weeks; tests/history builds histories the way the service does)."""
    return now - timedelta(weeks=8)
