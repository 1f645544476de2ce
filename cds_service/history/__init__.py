"""FHIR R4 resources -> the therapy-history model (:mod:`cds_service.history.model`)."""
