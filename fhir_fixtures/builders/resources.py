"""FHIR R4 resources as plain JSON, as an EHR sends them.

Every builder takes the resource's id (``None``: no id, for a caller that numbers resources
itself) and the patient's id, leaves out what it is not given, and writes the elements in one
fixed order (the fixture files on disk depend on it). Anything else a caller needs (``meta``,
``note``, a malformed value on purpose) goes in ``**elements``, written last in the order given.
"""

from __future__ import annotations

from typing import Any

from fhir_fixtures.builders.codes import ALLERGY_CLINICAL, ALLERGY_VERIFICATION, Code
from fhir_fixtures.builders.elements import (
    Json,
    coding,
    condition_clinical,
    condition_verification,
    observation_category,
    reference,
    status_concept,
)


def _resource(resource_type: str, resource_id: str | None) -> Json:
    resource: Json = {"resourceType": resource_type}
    if resource_id is not None:
        resource["id"] = resource_id
    return resource


def _put(resource: Json, **values: Any) -> None:
    """Set each value that is not None, in the order given."""
    resource.update({key: value for key, value in values.items() if value is not None})


def _subject(patient_id: str | None) -> Json | None:
    return None if patient_id is None else reference("Patient", patient_id)


def patient(
    patient_id: str | None,
    *,
    identifier: list[Json] | None = None,
    name: list[Json] | None = None,
    gender: str | None = None,
    birth_date: str | None = None,
    deceased_at: str | None = None,
    **elements: Any,
) -> Json:
    resource = _resource("Patient", patient_id)
    _put(resource, identifier=identifier, name=name, gender=gender, birthDate=birth_date)
    _put(resource, deceasedDateTime=deceased_at)
    resource.update(elements)
    return resource


def condition(
    condition_id: str | None,
    patient_id: str | None,
    code: Json,
    *,
    clinical_status: str | Json | None = None,
    verification_status: str | Json | None = None,
    category: list[Json] | None = None,
    onset: str | None = None,
    recorded: str | None = None,
    abated: str | None = None,
    **elements: Any,
) -> Json:
    """A Condition; a status given as a code is one of the standard system (no display)."""
    resource = _resource("Condition", condition_id)
    _put(
        resource,
        clinicalStatus=condition_clinical(clinical_status),
        verificationStatus=condition_verification(verification_status),
        category=category,
        code=code,
        subject=_subject(patient_id),
        onsetDateTime=onset,
        recordedDate=recorded,
        abatementDateTime=abated,
    )
    resource.update(elements)
    return resource


def observation(
    observation_id: str | None,
    patient_id: str | None,
    code: Json,
    *,
    effective: str | None,
    status: str = "final",
    category: str | None = None,
    value_quantity: Json | None = None,
    value_concept: Json | None = None,
    reference_range: Json | None = None,
    **elements: Any,
) -> Json:
    """An Observation; `category` is a code of the observation-category system."""
    resource = _resource("Observation", observation_id)
    _put(
        resource,
        status=status,
        category=None if category is None else observation_category(category),
        code=code,
        subject=_subject(patient_id),
        effectiveDateTime=effective,
        valueQuantity=value_quantity,
        valueCodeableConcept=value_concept,
        referenceRange=None if reference_range is None else [reference_range],
    )
    resource.update(elements)
    return resource


def medication_request(
    request_id: str | None,
    patient_id: str | None,
    medication: Json | None,
    *,
    authored: str | None,
    status: str = "active",
    intent: str = "order",
    dosage: list[Json] | None = None,
    dispense_request: Json | None = None,
    prior_request_id: str | None = None,
    **elements: Any,
) -> Json:
    """A MedicationRequest; `medication` is the medicationCodeableConcept."""
    resource = _resource("MedicationRequest", request_id)
    _put(
        resource,
        status=status,
        intent=intent,
        medicationCodeableConcept=medication,
        subject=_subject(patient_id),
        authoredOn=authored,
        dosageInstruction=dosage,
        dispenseRequest=dispense_request,
    )
    if prior_request_id is not None:
        resource["priorPrescription"] = reference("MedicationRequest", prior_request_id)
    resource.update(elements)
    return resource


def medication_administration(
    administration_id: str | None,
    patient_id: str | None,
    medication: Json | None,
    *,
    effective: str | None,
    status: str = "completed",
    medication_reference: str | None = None,
    dosage: Json | None = None,
    **elements: Any,
) -> Json:
    """A dose that was given; `medication` is the medicationCodeableConcept, or
    `medication_reference` names a Medication ("Medication/<id>")."""
    resource = _resource("MedicationAdministration", administration_id)
    _put(
        resource,
        status=status,
        medicationCodeableConcept=medication,
        medicationReference=None
        if medication_reference is None
        else {"reference": medication_reference},
        subject=_subject(patient_id),
        effectiveDateTime=effective,
        dosage=dosage,
    )
    resource.update(elements)
    return resource


def medication_statement(
    statement_id: str | None,
    patient_id: str | None,
    medication: Json | None,
    *,
    status: str = "active",
    effective: str | None = None,
    effective_period: Json | None = None,
    dosage: list[Json] | None = None,
    **elements: Any,
) -> Json:
    """Reported use (the family, another hospital); `medication` as in medication_request."""
    resource = _resource("MedicationStatement", statement_id)
    _put(
        resource,
        status=status,
        medicationCodeableConcept=medication,
        subject=_subject(patient_id),
        effectiveDateTime=effective,
        effectivePeriod=effective_period,
        dosage=dosage,
    )
    resource.update(elements)
    return resource


def procedure(
    procedure_id: str | None,
    patient_id: str | None,
    code: Json,
    *,
    performed: str | None,
    status: str = "completed",
    **elements: Any,
) -> Json:
    resource = _resource("Procedure", procedure_id)
    _put(
        resource,
        status=status,
        code=code,
        subject=_subject(patient_id),
        performedDateTime=performed,
    )
    resource.update(elements)
    return resource


def immunization(
    immunization_id: str | None,
    patient_id: str | None,
    vaccine: Json,
    *,
    occurred: str | None,
    status: str = "completed",
    **elements: Any,
) -> Json:
    resource = _resource("Immunization", immunization_id)
    _put(
        resource,
        status=status,
        vaccineCode=vaccine,
        patient=_subject(patient_id),
        occurrenceDateTime=occurred,
    )
    resource.update(elements)
    return resource


def allergy_intolerance(
    allergy_id: str | None,
    patient_id: str | None,
    code: Json,
    *,
    clinical_status: str | Json | None = None,
    verification_status: str | Json | None = None,
    allergy_type: str | None = None,
    category: list[str] | None = None,
    criticality: str | None = None,
    recorded: str | None = None,
    reactions: list[Json] | None = None,
    **elements: Any,
) -> Json:
    """An AllergyIntolerance; statuses given as codes are of the standard systems."""
    resource = _resource("AllergyIntolerance", allergy_id)
    _put(
        resource,
        clinicalStatus=status_concept(ALLERGY_CLINICAL, clinical_status),
        verificationStatus=status_concept(ALLERGY_VERIFICATION, verification_status),
        type=allergy_type,
        category=category,
        criticality=criticality,
        code=code,
        patient=_subject(patient_id),
        recordedDate=recorded,
        reaction=reactions,
    )
    resource.update(elements)
    return resource


def reaction(manifestation: str, severity: str | None = None) -> Json:
    """One AllergyIntolerance.reaction: a manifestation named in text, and its severity."""
    result: Json = {"manifestation": [{"text": manifestation}]}
    if severity is not None:
        result["severity"] = severity
    return result


def encounter(
    encounter_id: str | None,
    patient_id: str | None,
    encounter_class: Code,
    *,
    period: Json | None,
    status: str = "finished",
    **elements: Any,
) -> Json:
    resource = _resource("Encounter", encounter_id)
    _put(
        resource,
        status=status,
        **{"class": coding(encounter_class)},
        subject=_subject(patient_id),
        period=period,
    )
    resource.update(elements)
    return resource
