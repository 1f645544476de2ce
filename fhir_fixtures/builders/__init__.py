"""The one set of FHIR R4 builders of the fixtures, the bench and the tests.

``from fhir_fixtures import builders as fb``, then ``fb.observation(...)``, ``fb.CMAS``,
``fb.transaction(...)``: codes (:mod:`.codes`), data types (:mod:`.elements`), resources
(:mod:`.resources`) and bundles (:mod:`.bundles`). Each caller keeps its own story (a chart, a
scenario, a benchmark record) and builds its resources here.
"""

from fhir_fixtures.builders import codes as _codes
from fhir_fixtures.builders.bundles import (
    resource_url,
    searchset,
    searchset_entry,
    stable_urn,
    transaction,
    transaction_entry,
)
from fhir_fixtures.builders.codes import *  # noqa: F403 - every code is public (codes.__all__)
from fhir_fixtures.builders.elements import (
    Json,
    administration_dosage,
    coding,
    concept,
    condition_clinical,
    condition_verification,
    dosage,
    human_name,
    identifier,
    observation_category,
    period,
    quantity,
    reference,
    reference_range,
    status_concept,
    timing,
)
from fhir_fixtures.builders.resources import (
    allergy_intolerance,
    condition,
    encounter,
    immunization,
    medication_administration,
    medication_request,
    medication_statement,
    observation,
    patient,
    procedure,
    reaction,
)

__all__ = [
    *_codes.__all__,
    "Json",
    "administration_dosage",
    "allergy_intolerance",
    "coding",
    "concept",
    "condition",
    "condition_clinical",
    "condition_verification",
    "dosage",
    "encounter",
    "human_name",
    "identifier",
    "immunization",
    "medication_administration",
    "medication_request",
    "medication_statement",
    "observation",
    "observation_category",
    "patient",
    "period",
    "procedure",
    "quantity",
    "reaction",
    "reference",
    "reference_range",
    "resource_url",
    "searchset",
    "searchset_entry",
    "stable_urn",
    "status_concept",
    "timing",
    "transaction",
    "transaction_entry",
]
