"""Draft orders for card suggestions: the IVIG course as a FHIR R4 MedicationRequest.

The draft is a proposal (status ``draft``, intent ``proposal``) the clinician reviews and signs in
the EHR; it carries the figures of the card's dose arithmetic and nothing else.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cds_service.card_builder.dose_text import ivig_arithmetic_lines
from cds_service.card_builder.order_set_drafts import FHIR_ID
from cds_service.dosing.figures import plain
from cds_service.dosing.ivig import IvigDose
from cds_service.knowledge.dosing_policy import DosingPolicy
from cds_service.knowledge.order_sets import CODE_STATUS_URL
from cds_service.knowledge.texts import CardTexts

UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
IV_ROUTE = {"system": SNOMED, "code": "47625008", "display": "Intravenous route (qualifier value)"}
IVIG_INFUSION_ORDER_SET = "https://jdm-cds.example.org/fhir/PlanDefinition/ivig-infusion"


def json_number(value: Decimal) -> int | float:
    """A rounded Decimal as a JSON number whose text is the Decimal's (FHIR needs a number).

    ``float(Decimal("10.4"))`` prints as ``10.4``: for values already rounded to a few places the
    shortest float representation is exactly the decimal text, so nothing is lost on the wire.
    """
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValueError(f"{value} has no exact short JSON form")
    return number


def ivig_medication_request(dose: IvigDose, patient_id: str, texts: CardTexts) -> dict[str, Any]:
    """The draft MedicationRequest of docs/clinical/card-contract.md for one IVIG course."""
    if not FHIR_ID.fullmatch(patient_id):
        raise ValueError("patient_id is not a valid FHIR id")
    per_day = dose.per_day_g_rounded
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "instantiatesCanonical": [IVIG_INFUSION_ORDER_SET],
        "medicationCodeableConcept": _medication(dose.policy),
        "subject": {"reference": f"Patient/{patient_id}"},
        "dosageInstruction": [
            {
                "text": _dosage_text(dose, texts),
                "timing": {
                    "repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "count": dose.days}
                },
                "route": {"coding": [IV_ROUTE], "text": "intravenous"},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": json_number(per_day),
                            "unit": "g",
                            "system": UCUM,
                            "code": "g",
                        }
                    }
                ],
            }
        ],
        "note": [{"text": line} for line in ivig_arithmetic_lines(dose, texts)],
    }


def _medication(policy: DosingPolicy) -> dict[str, Any]:
    """The configured product, its code marked as a candidate while unverified."""
    product = policy.ivig.product
    coding: dict[str, Any] = {
        "system": product.coding.system,
        "code": product.coding.code,
        "display": product.coding.display,
    }
    if not product.coding.verified:
        coding["extension"] = [{"url": CODE_STATUS_URL, "valueCode": "candidate"}]
    return {"coding": [coding], "text": product.name}


def _dosage_text(dose: IvigDose, texts: CardTexts) -> str:
    start, maximum = dose.start_rate_ml_per_kg_min, dose.max_rate_ml_per_kg_min
    return (
        f"{plain(dose.per_day_g_rounded)} g IV once daily for {dose.days} days "
        f"(course {plain(dose.course_total_g_rounded)} g = "
        f"{plain(dose.volume_ml_rounded)} mL of {percent_strength(dose)} %). "
        f"Start {plain(start)} mL/kg/min "
        f"({plain(dose.ml_per_hour(start))} mL/h) for {dose.start_rate_minutes} min, then at most "
        f"{plain(maximum)} mL/kg/min ({plain(dose.ml_per_hour(maximum))} mL/h). "
        f"{texts.phrase('arithmetic.productLabel')}"
    )


def percent_strength(dose: IvigDose) -> str:
    """The product's strength in per cent: 0.1 g/mL -> ``10``."""
    return plain(dose.policy.ivig.product.concentration_g_per_ml.value * 100)
