"""Synthetic patients for the HTTP-layer tests, as FHIR transaction Bundles (ids start "found-").

``jdm_patient_bundle()`` is a child with JDM and a long record: more than 20 weight
Observations (so a search pages at sekmet's default 20 and at small ``_count``), CK values,
methotrexate and prednisolone orders, IV methylprednisolone pulses, a procedure, an immunization
and an allergy, plus an Observation whose code no template asks for (a heart rate).
``other_patient_bundle()`` is a second child, to catch data leaking across patients.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fhir_fixtures import builders as fb
from fhir_fixtures.builders import Code

JDM_PATIENT_ID = "found-jdm-1"
OTHER_PATIENT_ID = "found-other-1"
WEIGHT_COUNT = 25


def _bare(code: Code) -> dict[str, Any]:
    """A CodeableConcept with the bare code: no display, no text."""
    return fb.concept(code.shown_as(None))


def _observation(
    oid: str, patient_id: str, code: Code, day: date, value: float, unit: str
) -> dict[str, Any]:
    return fb.observation(
        oid,
        patient_id,
        _bare(code),
        effective=day.isoformat(),
        value_quantity=fb.quantity(value, unit),
    )


def _medication_request(
    mid: str, patient_id: str, code: Code, text: str, day: date
) -> dict[str, Any]:
    medication = fb.concept(code.shown_as(None), text=text)
    return fb.medication_request(mid, patient_id, medication, authored=day.isoformat())


def jdm_patient_resources(patient_id: str = JDM_PATIENT_ID) -> list[dict[str, Any]]:
    start = date(2025, 6, 2)
    resources: list[dict[str, Any]] = [
        fb.patient(patient_id, gender="female", birth_date="2016-04-12"),
        fb.condition(
            f"{patient_id}-jdm",
            patient_id,
            _bare(fb.JDM_UNSPECIFIED),
            clinical_status="active",
            verification_status="confirmed",
            onset=start.isoformat(),
        ),
    ]
    for week in range(WEIGHT_COUNT):
        day = start + timedelta(weeks=week)
        resources.append(
            _observation(
                f"{patient_id}-wt-{week}", patient_id, fb.WEIGHT, day, 25 + week / 10, "kg"
            )
        )
    for index, ck in enumerate((2400, 1300, 900)):
        day = start + timedelta(weeks=4 * index)
        resources.append(
            _observation(f"{patient_id}-ck-{index}", patient_id, fb.CK, day, ck, "U/L")
        )
    resources.append(_observation(f"{patient_id}-ht", patient_id, fb.HEIGHT, start, 128, "cm"))
    resources.append(_observation(f"{patient_id}-hr", patient_id, fb.HEART_RATE, start, 96, "/min"))
    resources.append(
        _medication_request(f"{patient_id}-mtx", patient_id, fb.METHOTREXATE, "methotrexate", start)
    )
    resources.append(
        _medication_request(
            f"{patient_id}-pred", patient_id, fb.PREDNISOLONE, "prednisolone", start
        )
    )
    for pulse in range(3):
        given_at = (start + timedelta(days=pulse)).isoformat() + "T09:00:00+12:00"
        resources.append(
            fb.medication_administration(
                f"{patient_id}-ivmp-{pulse}",
                patient_id,
                fb.concept(fb.METHYLPREDNISOLONE.shown_as(None), text="methylprednisolone"),
                effective=given_at,
                dosage=fb.administration_dosage(
                    route=fb.concept(text="intravenous"), dose=fb.quantity(750, "mg")
                ),
            )
        )
    resources.append(
        fb.procedure(
            f"{patient_id}-ecg",
            patient_id,
            fb.concept(fb.ECG.shown_as(None), text="ECG"),
            performed=start.isoformat(),
        )
    )
    resources.append(
        fb.immunization(
            f"{patient_id}-mmr", patient_id, _bare(fb.MMR_VACCINE), occurred="2017-05-01"
        )
    )
    resources.append(
        fb.allergy_intolerance(f"{patient_id}-pen", patient_id, fb.concept(text="penicillin"))
    )
    return resources


def other_patient_resources(patient_id: str = OTHER_PATIENT_ID) -> list[dict[str, Any]]:
    day = date(2025, 9, 1)
    return [
        fb.patient(patient_id, gender="male", birth_date="2014-02-02"),
        _observation(f"{patient_id}-wt-0", patient_id, fb.WEIGHT, day, 41.0, "kg"),
        _medication_request(f"{patient_id}-mtx", patient_id, fb.METHOTREXATE, "methotrexate", day),
    ]


def transaction(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return fb.transaction(resources, lambda r: f"urn:uuid:{r['resourceType']}-{r['id']}")
