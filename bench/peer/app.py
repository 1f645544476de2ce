"""The benchmark's peer: a minimal CDS Hooks service built the HealthChain way.

Runs in its own venv (``.peer-venv``, PyPI ``healthchain``), never imports jdm-cds, and is served
by uvicorn (HealthChain's own server) with as many workers as jdm-cds gets. For each
``patient-view`` call it does the least a FHIR-validating service does: every prefetch value is
parsed into ``fhir.resources`` R4B models with HealthChain's prefetch converter; then one simple
rule (a JDM diagnosis and a recorded weight -> an IVIG 2 g/kg card) so the answer is a real card.
It has none of jdm-cds's checks (history, safety, dosing policy): it is a floor, not a rival.

    .peer-venv/bin/uvicorn --app-dir bench/peer app:app --port 8000 --workers 2
    POST /cds/cds-services/jdm-ivig
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from healthchain.fhir import convert_prefetch_to_fhir_objects
from healthchain.fhir.version import set_default_version
from healthchain.gateway import CDSHooksService, HealthChainAPI
from healthchain.models.requests.cdsrequest import CDSRequest
from healthchain.models.responses.cdsresponse import Card, CDSResponse, Source

set_default_version("R4B")  # the records are R4; HealthChain's default models are R5

WEIGHT_LOINC = "29463-7"
JDM_ICD10_PREFIX = "M33.0"

app = HealthChainAPI(title="HealthChain peer", enable_events=False)
cds = CDSHooksService(use_events=False)


def _resources(parsed: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    for value in parsed.values():
        if getattr(value, "get_resource_type", lambda: None)() == "Bundle":
            found.extend(entry.resource for entry in value.entry or [])
        elif value is not None and not isinstance(value, dict):
            found.append(value)
    return found


def _codes(concept: Any) -> set[str]:
    return {coding.code for coding in (concept.coding or []) if coding.code} if concept else set()


@cds.hook("patient-view", id="jdm-ivig", title="JDM IVIG (HealthChain peer)")
def patient_view(request: CDSRequest) -> CDSResponse:
    resources = _resources(convert_prefetch_to_fhir_objects(request.prefetch or {}))
    has_jdm = any(
        r.get_resource_type() == "Condition"
        and any(code.startswith(JDM_ICD10_PREFIX) for code in _codes(r.code))
        for r in resources
    )
    weights = sorted(
        (
            (r.effectiveDateTime, r.valueQuantity.value)
            for r in resources
            if r.get_resource_type() == "Observation"
            and WEIGHT_LOINC in _codes(r.code)
            and r.valueQuantity is not None
            and r.effectiveDateTime is not None
        ),
        key=lambda pair: pair[0],
    )
    if not (has_jdm and weights):
        return CDSResponse(cards=[])
    weight_kg = Decimal(str(weights[-1][1]))
    dose_g = (weight_kg * 2).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    card = Card(
        summary=f"Consider IVIG 2 g/kg: {dose_g} g per course ({weight_kg} kg)",
        indicator="warning",
        source=Source(label="HealthChain peer"),
    )
    return CDSResponse(cards=[card])


app.register_service(cds)
