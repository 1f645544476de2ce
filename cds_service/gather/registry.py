"""The service registry: discovery and routing both read it, so a new service is one entry.

A service's prefetch templates ask for everything its rules need, filtered by code where FHIR
search allows (Observations), with large pages (``_count``). The Observation code list is built at
startup from the value sets, never typed here.

Scores with no standard code (CMAS, MMT-8: docs/clinical/codes.md) are recorded by EHRs as
flowsheet rows under local codes, which no code filter can name; a second Observation key asks
for the assessment categories instead (``SCORE_CATEGORIES``), and the history layer keeps only
what matches a value set by code or by name (docs/prefetch.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cds_service.errors import UnknownServiceError

PATIENT_KEY = "patient"
SCORES_KEY = "scoreObservations"
# Observation categories under which EHRs file assessment scores (docs/prefetch.md): FHIR's
# observation-category survey and exam, US Core's functional-status, Epic's
# functional-mental-status. A token without a system matches the code in any system.
SCORE_CATEGORIES = ("survey", "exam", "functional-status", "functional-mental-status")
# What a gather note calls a key whose resource type another key shares
_LABELS = {SCORES_KEY: "Observation (assessment categories)"}


def resource_type_of(template: str) -> str:
    """The resource type a prefetch template asks for: ``Observation?...`` -> ``Observation``."""
    return re.split(r"[/?]", template, maxsplit=1)[0]


def is_read(template: str) -> bool:
    """Whether a template reads one resource (``Patient/{{...}}``) rather than searching."""
    return template.startswith(resource_type_of(template) + "/")


@dataclass(frozen=True)
class ServiceDefinition:
    id: str
    hook: str
    title: str
    description: str
    # prefetch key -> FHIR relative URL template with {{...}} tokens
    prefetch: Mapping[str, str] = field(default_factory=dict)
    usage_requirements: str = ""

    def discovery_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "id": self.id,
            "prefetch": dict(self.prefetch),
        }
        if self.usage_requirements:
            entry["usageRequirements"] = self.usage_requirements
        return entry

    def label(self, key: str) -> str:
        """What gather notes call a prefetch key: its resource type, made plain when shared."""
        return _LABELS.get(key) or resource_type_of(self.prefetch[key])


@dataclass(frozen=True)
class ServiceRegistry:
    services: tuple[ServiceDefinition, ...]

    def get(self, service_id: str) -> ServiceDefinition:
        for service in self.services:
            if service.id == service_id:
                return service
        raise UnknownServiceError(f"no CDS service with id {service_id!r}; see GET /cds-services")

    def discovery(self) -> dict[str, Any]:
        return {"services": [service.discovery_entry() for service in self.services]}

    def __iter__(self) -> Iterator[ServiceDefinition]:
        return iter(self.services)


def jdm_ivig_prefetch(observation_codes: Sequence[str], page_size: int) -> dict[str, str]:
    """Prefetch templates of the jdm-ivig service.

    ``observation_codes`` are "system|code" tokens (from ``Terminology.search_codes``); without
    any, Observations are asked for unfiltered (and the rules still check every code). Only
    ``{{context.patientId}}`` is used: CDS Hooks 2.0 offers no date token (``today()`` is a 3.0
    ballot feature), so the score search has no date floor; the history layer drops old rows.

    >>> jdm_ivig_prefetch(["http://loinc.org|29463-7"], 200)["observations"]
    'Observation?patient={{context.patientId}}&code=http://loinc.org|29463-7&_count=200'
    >>> jdm_ivig_prefetch([], 200)["scoreObservations"].split("&")[1]
    'category=survey,exam,functional-status,functional-mental-status'
    """
    patient = "patient={{context.patientId}}"
    count = f"_count={page_size}"
    code_filter = f"&code={','.join(observation_codes)}" if observation_codes else ""
    return {
        PATIENT_KEY: "Patient/{{context.patientId}}",
        "conditions": f"Condition?{patient}&{count}",
        "medicationRequests": (
            f"MedicationRequest?{patient}&_include=MedicationRequest:medication&{count}"
        ),
        "medicationAdministrations": (
            f"MedicationAdministration?{patient}"
            f"&_include=MedicationAdministration:medication&{count}"
        ),
        "medicationStatements": (
            f"MedicationStatement?{patient}&_include=MedicationStatement:medication&{count}"
        ),
        "observations": f"Observation?{patient}{code_filter}&{count}",
        SCORES_KEY: f"Observation?{patient}&category={','.join(SCORE_CATEGORIES)}&{count}",
        "procedures": f"Procedure?{patient}&{count}",
        "immunizations": f"Immunization?{patient}&{count}",
        "allergies": f"AllergyIntolerance?{patient}&{count}",
    }


def build_registry(observation_codes: Sequence[str], page_size: int) -> ServiceRegistry:
    jdm_ivig = ServiceDefinition(
        id="jdm-ivig",
        hook="patient-view",
        title="Juvenile dermatomyositis: IVIG and monitoring",
        description=(
            "For a child with juvenile dermatomyositis: where treatment stands, whether IVIG is "
            "indicated (with a weight-based dose and safety checks), and which monitoring is due."
        ),
        prefetch=MappingProxyType(jdm_ivig_prefetch(observation_codes, page_size)),
    )
    orders_prefetch = MappingProxyType(order_prefetch(observation_codes, page_size))
    order_select = ServiceDefinition(
        id="jdm-order-select",
        hook="order-select",
        title="Juvenile dermatomyositis: medication order check (order-select)",
        description=(
            "For a child with juvenile dermatomyositis: checks the selected draft order of "
            "methotrexate, IVIG, rituximab, IV methylprednisolone or prednisolone against the "
            "child's weight, height, IVIG history and safety facts. A correct order gets no card."
        ),
        prefetch=orders_prefetch,
    )
    order_sign = ServiceDefinition(
        id="jdm-order-sign",
        hook="order-sign",
        title="Juvenile dermatomyositis: medication order check (order-sign)",
        description=(
            "For a child with juvenile dermatomyositis: checks every draft order of methotrexate, "
            "IVIG, rituximab, IV methylprednisolone or prednisolone before it is signed (daily "
            "methotrexate, IVIG course, doses above the regimen's maximum, IVIG interval and "
            "safety). A correct order gets no card."
        ),
        prefetch=orders_prefetch,
    )
    return ServiceRegistry(services=(jdm_ivig, order_select, order_sign))


# the hooks whose context carries draft orders (docs/clinical/order-checks.md)
ORDER_HOOKS = frozenset({"order-select", "order-sign"})


def order_prefetch(observation_codes: Sequence[str], page_size: int) -> dict[str, str]:
    """Prefetch templates of the order services: those of ``jdm-ivig`` the checks read (the
    patient, problems, medicines, weight, height and laboratory results, allergies and
    immunizations), without the assessment-category scores no order check reads.

    >>> sorted(order_prefetch([], 200)) == sorted(set(jdm_ivig_prefetch([], 200)) - {SCORES_KEY})
    True
    """
    templates = jdm_ivig_prefetch(observation_codes, page_size)
    del templates[SCORES_KEY]
    return templates
