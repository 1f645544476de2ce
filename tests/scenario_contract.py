"""The card contract (docs/clinical/card-contract.md, the CDS Hooks 2.0 specification): checks every
card of every answer
must pass, whatever the scenario. Each check returns human-readable problems (empty = pass).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from fhir_fixtures import builders

TOPIC_SYSTEM = "https://jdm-cds.example.org/fhir/CodeSystem/card-topic"
OVERRIDE_SYSTEM = "https://jdm-cds.example.org/fhir/CodeSystem/override-reason"
EVIDENCE_KEY = "org.jdm-cds.evidence"
# docs/clinical/card-contract.md: the topic table's order, used within one indicator
TOPIC_ORDER = (
    "methotrexate-schedule",
    "severe-organ-disease",
    "ivig-start",
    "ivig-course-due",
    "ivig-contraindicated",
    "weight-needed",
    "first-line-window",
    "dysphagia-aspiration",
    "ivig-safety-iga-deficiency",
    "ivig-safety-anti-iga",
    "ivig-safety-renal",
    "ivig-safety-thrombosis",
    "ivig-safety-cardiac-fluid",
    "ivig-monitoring-due",
    "escalate-after-ivig",
    "extramuscular-screen",
    "steroid-taper",
    "data-quality",
)
INDICATOR_ORDER = ("critical", "warning", "info")
# docs/clinical/card-contract.md: the recommendation first, then these, each when it has content
DETAIL_SECTIONS = ("**Why**", "**Dose**", "**Safety**", "**Therapy so far**", "Sources:")
IVIG_OVERRIDE_REASONS = (
    "already discussed with family",
    "treated elsewhere",
    "not refractory in my judgement",
)
# dose-object fields that are not Decimal strings
NON_DECIMAL_DOSE_FIELDS = {"agent", "dosingWeightBasis", "weightObservation", "weightDate"}
INTEGER_DOSE_FIELDS = {"days", "infusions", "intervalDays"}
UCUM = builders.UCUM
INTRAVENOUS_ROUTE = builders.ROUTE_IV.code
# docs/clinical/order-sets.md: the order sets a card may mention; a card that mentions one links to
# it
ORDER_SET_IDS = (
    "ivig-baseline",
    "ivig-infusion",
    "ivig-monitoring",
    "jdm-reevaluation",
    "jdm-extramuscular",
    "rituximab-baseline",
)

Json = dict[str, Any]


def evidence_of(card: Json) -> Json:
    extension = card.get("extension") or {}
    value = extension.get(EVIDENCE_KEY)
    return value if isinstance(value, dict) else {}


def topic_of(card: Json) -> str | None:
    topic = ((card.get("source") or {}).get("topic") or {}).get("code")
    return topic if isinstance(topic, str) else None


# --- the card contract, for every card of every response ---------------------------------------


def _empties(value: Any, path: str) -> Iterable[str]:
    """Paths holding null, an empty string, an empty list or an empty object."""
    if value is None or value == "" or value == [] or value == {}:
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _empties(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _empties(item, f"{path}[{index}]")


def _nulls(value: Any, path: str) -> Iterable[str]:
    if value is None:
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nulls(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nulls(item, f"{path}[{index}]")


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def contract_problems(card: Json, patient_id: str) -> list[str]:
    """docs/clinical/card-contract.md and the CDS Hooks 2.0 specification rules every card must
    keep."""
    problems: list[str] = []
    topic = topic_of(card)
    where = f"card {topic or '?'}"
    if not _is_uuid(card.get("uuid")):
        problems.append(f"{where}: uuid missing or not a UUID")
    summary = card.get("summary")
    if not isinstance(summary, str) or not 0 < len(summary) <= 139:
        problems.append(f"{where}: summary must be 1-139 characters, got {summary!r}")
    if card.get("indicator") not in INDICATOR_ORDER:
        problems.append(f"{where}: indicator {card.get('indicator')!r}")
    source = card.get("source") or {}
    if not source.get("label"):
        problems.append(f"{where}: source.label missing")
    if (source.get("topic") or {}).get("system") != TOPIC_SYSTEM:
        problems.append(f"{where}: source.topic.system is not {TOPIC_SYSTEM}")
    if topic not in TOPIC_ORDER:
        problems.append(f"{where}: unknown topic code")
    problems += [f"{where}: null/empty optional field at {p}" for p in _card_empties(card)]
    problems += _detail_problems(card, where)
    problems += _evidence_problems(card, where, topic)
    problems += _suggestion_problems(card, where, patient_id)
    for index, reason in enumerate(card.get("overrideReasons") or []):
        if not (isinstance(reason, dict) and reason.get("display") and reason.get("code")):
            problems.append(f"{where}: overrideReasons[{index}] needs code and display")
    for index, link in enumerate(card.get("links") or []):
        if link.get("type") != "absolute" or not link.get("url") or not link.get("label"):
            problems.append(f"{where}: links[{index}] needs label, url and type absolute")
    problems += _order_set_link_problems(card, where)
    if topic == "ivig-start":
        problems += _ivig_override_problems(card, where)
        problems += _ivig_suggestion_problems(card, where)
    if topic == "ivig-contraindicated":
        problems += _contraindication_override_problems(card, where)
    return problems


BASELINE_LABEL = "Baseline orders before the first IVIG course"


def _ivig_suggestion_problems(card: Json, where: str) -> list[str]:
    """docs/clinical/card-contract.md: "Draft IVIG course ..." with one MedicationRequest action;
    "Baseline orders before the first IVIG course" with one create action per ServiceRequest;
    selectionBehavior any."""
    problems = []
    suggestions = card.get("suggestions") or []
    if card.get("selectionBehavior") != "any":
        problems.append(f"{where}: selectionBehavior must be 'any'")
    for suggestion in suggestions:
        label = str(suggestion.get("label", ""))
        types = [(a.get("resource") or {}).get("resourceType") for a in suggestion["actions"]]
        if "MedicationRequest" in types and (
            not label.startswith("Draft IVIG course") or types != ["MedicationRequest"]
        ):
            problems.append(f"{where}: the IVIG draft must be one action under 'Draft IVIG course'")
        if label == BASELINE_LABEL and set(types) != {"ServiceRequest"}:
            problems.append(f"{where}: baseline suggestion must hold ServiceRequests only")
    if not any(s.get("label") == BASELINE_LABEL for s in suggestions):
        problems.append(f"{where}: no '{BASELINE_LABEL}' suggestion")
    return problems


def _order_set_link_problems(card: Json, where: str) -> list[str]:
    """Every card that mentions an order set links to it (absolute URL)."""
    labels = [str(s.get("label", "")) for s in card.get("suggestions") or []]
    said = " ".join([str(card.get("detail", "")), *labels])
    urls = [str(link.get("url", "")) for link in card.get("links") or []]
    return [
        f"{where}: mentions order set {name} but does not link to it"
        for name in ORDER_SET_IDS
        if name in said and not any(url.endswith(f"/order-sets/{name}") for url in urls)
    ]


def _card_empties(card: Json) -> Iterable[str]:
    # CDS Hooks fields: no null and no empty optional value; the evidence: no null at least
    for key, value in card.items():
        if key == "extension":
            yield from _nulls(value, "extension")
        else:
            yield from _empties(value, key)


def _detail_problems(card: Json, where: str) -> list[str]:
    detail = card.get("detail")
    if not isinstance(detail, str) or not detail.strip():
        return [f"{where}: detail missing"]
    problems = []
    positions = [(detail.find(name), name) for name in DETAIL_SECTIONS if name in detail]
    if [name for _, name in sorted(positions)] != [name for _, name in positions]:
        problems.append(
            f"{where}: detail sections out of order: {[n for _, n in sorted(positions)]}"
        )
    for required in ("Sources:",):
        if required not in detail:
            problems.append(f"{where}: detail lacks the {required!r} section")
    return problems


def _evidence_problems(card: Json, where: str, topic: str | None) -> list[str]:
    evidence = evidence_of(card)
    if not evidence:
        return [f"{where}: no extension.{EVIDENCE_KEY}"]
    problems = []
    if evidence.get("topic") != topic:
        problems.append(f"{where}: evidence.topic {evidence.get('topic')!r} != source.topic")
    if not evidence.get("ruleId"):
        problems.append(f"{where}: evidence.ruleId missing")
    resources = evidence.get("resources") or []
    if resources != sorted(set(resources)):
        problems.append(f"{where}: evidence.resources must be sorted and unique")
    dose = evidence.get("dose")
    if isinstance(dose, dict):
        for key, value in dose.items():
            if key in NON_DECIMAL_DOSE_FIELDS or key == "capped":
                continue
            if key in INTEGER_DOSE_FIELDS:
                if not isinstance(value, int) or isinstance(value, bool):
                    problems.append(f"{where}: dose.{key} must be an integer, got {value!r}")
            elif not _decimal_string(value):
                problems.append(f"{where}: dose.{key} must be a Decimal string, got {value!r}")
    return problems


def _decimal_string(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        Decimal(value)
    except InvalidOperation:
        return False
    return True


def _suggestion_problems(card: Json, where: str, patient_id: str) -> list[str]:
    suggestions = card.get("suggestions") or []
    problems = []
    if suggestions and card.get("selectionBehavior") not in ("any", "at-most-one"):
        problems.append(f"{where}: suggestions without a valid selectionBehavior")
    for suggestion in suggestions:
        label = suggestion.get("label", "?")
        if not suggestion.get("label") or not suggestion.get("actions"):
            problems.append(f"{where}: suggestion {label!r} needs a label and actions")
        for action in suggestion.get("actions") or []:
            resource = action.get("resource")
            if action.get("type") != "create" or not isinstance(resource, dict):
                continue
            problems += _draft_problems(resource, f"{where}: suggestion {label!r}", patient_id)
    return problems


def _draft_problems(resource: Json, where: str, patient_id: str) -> list[str]:
    problems = []
    resource_type = resource.get("resourceType", "?")
    try:
        get_fhir_model_class(resource_type).model_validate(resource)
    except Exception as error:
        problems.append(f"{where}: {resource_type} is not valid FHIR R4B: {str(error)[:300]}")
    if resource_type in ("MedicationRequest", "ServiceRequest"):
        if resource.get("status") != "draft" or resource.get("intent") != "proposal":
            problems.append(f"{where}: {resource_type} must be status draft, intent proposal")
        if (resource.get("subject") or {}).get("reference") != f"Patient/{patient_id}":
            problems.append(f"{where}: {resource_type}.subject is not Patient/{patient_id}")
    return problems


# docs/clinical/safety.md, hard stops: override reasons that fit a contraindication only
CONTRAINDICATION_UNFIT_REASONS = ("already discussed with family", "not refractory")


def _contraindication_override_problems(card: Json, where: str) -> list[str]:
    displays = {str(r.get("display", "")).lower() for r in card.get("overrideReasons") or []}
    return [
        f"{where}: override reason {unfit!r} does not fit a contraindication"
        for unfit in CONTRAINDICATION_UNFIT_REASONS
        if any(unfit in display for display in displays)
    ]


def _ivig_override_problems(card: Json, where: str) -> list[str]:
    reasons = card.get("overrideReasons") or []
    displays = {str(r.get("display", "")).lower() for r in reasons}
    problems = [
        f"{where}: override reason {wanted!r} missing"
        for wanted in IVIG_OVERRIDE_REASONS
        if not any(wanted in display for display in displays)
    ]
    if any(r.get("system") != OVERRIDE_SYSTEM for r in reasons):
        problems.append(f"{where}: override reasons must use {OVERRIDE_SYSTEM}")
    return problems


def order_problems(cards: list[Json]) -> list[str]:
    """Cards in a stable order: critical, warning, info; then by the topic table's order. Each
    card has its own uuid (feedback names the card by it)."""
    uuids = [card.get("uuid") for card in cards]
    if len(set(uuids)) != len(uuids):
        return [f"card uuids repeat: {uuids}"]
    keys = []
    for card in cards:
        indicator = card.get("indicator")
        topic = topic_of(card)
        if indicator not in INDICATOR_ORDER or topic not in TOPIC_ORDER:
            return []  # reported by contract_problems
        keys.append((INDICATOR_ORDER.index(indicator), TOPIC_ORDER.index(topic)))
    if keys != sorted(keys):
        return [f"cards out of order: {[topic_of(c) for c in cards]}"]
    return []
