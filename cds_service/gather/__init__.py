"""Gathering a hook call's data: the service registry, the prefetch ladder, the FHIR client."""
