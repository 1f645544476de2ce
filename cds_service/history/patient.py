"""Patient -> :class:`PatientFacts`: age in completed years and months at `now`, sex, deceased."""

from __future__ import annotations

from datetime import date, datetime

from cds_service.history.model import PatientFacts, SourceRef
from cds_service.history.parse import ParsedResource


def map_patient(parsed: ParsedResource | None, patient_id: str, now: datetime) -> PatientFacts:
    """Facts about the patient; all unknown (not deceased) when the Patient resource is missing."""
    source = SourceRef("Patient", patient_id)
    if parsed is None:
        return PatientFacts(patient_id, None, None, False, None, None, source)
    patient = parsed.model
    birth_date = patient.birthDate if isinstance(patient.birthDate, date) else None
    deceased = bool(patient.deceasedBoolean) or patient.deceasedDateTime is not None
    years, months = age_at(birth_date, now.date()) if birth_date else (None, None)
    return PatientFacts(
        patient_id=patient_id,
        birth_date=birth_date,
        sex=patient.gender,
        deceased=deceased,
        age_years=years,
        age_months=months,
        source=source,
    )


def age_at(birth_date: date, on: date) -> tuple[int | None, int | None]:
    """Completed (years, months beyond the years); (None, None) for a birth date in the future.

    >>> age_at(date(2017, 1, 31), date(2026, 3, 15))
    (9, 1)
    """
    if birth_date > on:
        return None, None
    total_months = (on.year - birth_date.year) * 12 + (on.month - birth_date.month)
    if on.day < birth_date.day:
        total_months -= 1
    return total_months // 12, total_months % 12
