"""Code systems and identifiers as EHR vendors send them (fhir_fixtures/scenarios/specs_real.py).

Where each shape comes from (read 2026-12-05; no vendor text is copied;
fhir_fixtures/scenarios/README.head.md has the table per scenario):

* Epic: its own codes under the OID root ``urn:oid:1.2.840.114350…`` beside the standard code
  (the public Epic-shaped lab Observation kept in fhir_fixtures/real/examples/epic-shaped/);
  vital signs and flowsheet rows as Observations (https://open.epic.com/Clinical/Observation);
  flowsheet rows under ``…1.7.2.707679`` (docs/prefetch.md). The ERX, EDG and lab-component
  sub-OIDs below follow the same root; the codes under them are made up.
* Cerner / Oracle Health: RxNorm beside the Millennium order synonym
  ``https://fhir.cerner.com/<EHR source id>/synonym``, and home medications as MedicationRequest
  (https://fhir.cerner.com/millennium/r4/clinical/medications/medication-request/, mirrored at
  docs.oracle.com/en/industries/health/millennium-platform-apis/mfrap/medication_request.html).
* NDC under ``http://hl7.org/fhir/sid/ndc``: US Core / USCDI v3 allow the NDC as an extra coding
  of a medicine; Cerner's R4 MedicationAdministration page names RxNorm only, so an NDC-only
  record is the US pharmacy-system shape, not a documented Cerner one.
* UK (NHS England UK Core): dm+d VMP/AMP under ``https://dmd.nhs.uk`` (UK Core Medication.code
  guidance on simplifier.net), SNOMED CT first (fhir_fixtures/real/examples/uk-core/).

The OIDs of the standard systems are HL7's (terminology.hl7.org: LOINC 2.16.840.1.113883.6.1,
SNOMED CT …6.96, RxNorm …6.88, ICD-10-CM …6.90, NDC …6.69).
"""

from __future__ import annotations

from fhir_fixtures.builders.codes import Code

NDC = "http://hl7.org/fhir/sid/ndc"
DMD = "https://dmd.nhs.uk"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
LOINC_OID = "urn:oid:2.16.840.1.113883.6.1"
SNOMED_OID = "urn:oid:2.16.840.1.113883.6.96"
RXNORM_OID = "urn:oid:2.16.840.1.113883.6.88"
ICD10_CM_OID = "urn:oid:2.16.840.1.113883.6.90"

# Epic: medication (ERX) ids, diagnosis (EDG) ids, flowsheet row ids, lab component ids
EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"
EPIC_DIAGNOSIS = "urn:oid:1.2.840.114350.1.13.0.1.7.2.728286"
EPIC_FLOWSHEET = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"
EPIC_LAB_COMPONENT = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"
# Cerner: the public sandbox's EHR source id in its proprietary code systems
CERNER_SYNONYM = "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/synonym"
CERNER_EVENT_CODE = "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/72"

ROUTE_IM = Code("http://snomed.info/sct", "78421000", "Intramuscular route")


def local(system: str, code: str, display: str | None = None) -> Code:
    """A vendor's own code (no display unless the vendor sends one)."""
    return Code(system, code, display)
