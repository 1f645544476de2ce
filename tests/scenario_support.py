"""Checks a hook response against a scenario's expected.json and against CARD-CONTRACT.md.

Every check returns a list of human-readable problems (empty = pass), so one failing scenario
reports everything that is wrong with it at once, not only the first mismatch.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

TOPIC_SYSTEM = "https://jdm-cds.example.org/fhir/CodeSystem/card-topic"
OVERRIDE_SYSTEM = "https://jdm-cds.example.org/fhir/CodeSystem/override-reason"
EVIDENCE_KEY = "org.jdm-cds.evidence"
# CARD-CONTRACT.md: the topic table's order, used within one indicator
TOPIC_ORDER = (
    "ivig-start",
    "weight-needed",
    "first-line-window",
    "dysphagia-aspiration",
    "ivig-safety-iga-deficiency",
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
DETAIL_SECTIONS = ("Why this card", "Dose arithmetic", "Safety notes", "Sources")
IVIG_OVERRIDE_REASONS = (
    "already discussed with family",
    "treated elsewhere",
    "not refractory in my judgement",
)
# dose-object fields that are not Decimal strings
NON_DECIMAL_DOSE_FIELDS = {"agent", "dosingWeightBasis", "weightObservation", "weightDate"}
INTEGER_DOSE_FIELDS = {"days", "infusions", "intervalDays"}
UCUM = "http://unitsofmeasure.org"
INTRAVENOUS_ROUTE = "47625008"
# order-sets.md: the order sets a card may mention; a card that mentions one links to it
ORDER_SET_IDS = (
    "ivig-baseline",
    "ivig-infusion",
    "ivig-monitoring",
    "jdm-reevaluation",
    "jdm-extramuscular",
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
    """CARD-CONTRACT.md and cds-hooks-notes.md rules every card must keep."""
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
    return problems


def _ivig_suggestion_problems(card: Json, where: str) -> list[str]:
    """CARD-CONTRACT.md: "Draft IVIG course ..." with one MedicationRequest action; "Baseline
    orders (ivig-baseline)" with one create action per ServiceRequest; selectionBehavior any."""
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
        if label.startswith("Baseline orders (ivig-baseline)") and set(types) != {"ServiceRequest"}:
            problems.append(f"{where}: baseline suggestion must hold ServiceRequests only")
    if not any(
        str(s.get("label", "")).startswith("Baseline orders (ivig-baseline)") for s in suggestions
    ):
        problems.append(f"{where}: no 'Baseline orders (ivig-baseline)' suggestion")
    return problems


def _order_set_link_problems(card: Json, where: str) -> list[str]:
    """Issue 5: every card that mentions an order set links to it (absolute URL)."""
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
    for required in ("Why this card", "Sources"):
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


# --- the scenario's expectations -----------------------------------------------------------------


def expectation_problems(cards: list[Json], expected: Mapping[str, Any]) -> list[str]:
    problems = _topic_problems(cards, expected)
    by_topic: dict[str, list[Json]] = {}
    for card in cards:
        by_topic.setdefault(topic_of(card) or "?", []).append(card)
    for wanted in expected["cards"]:
        candidates = by_topic.get(wanted["topic"], [])
        if not candidates:
            continue  # already reported as a topic mismatch
        results = [card_problems(card, wanted, expected["patientId"]) for card in candidates]
        best = min(results, key=len)
        problems += best
    problems += _forbidden_problems(cards, expected.get("forbiddenResources", []))
    return problems


def _topic_problems(cards: list[Json], expected: Mapping[str, Any]) -> list[str]:
    optional = set(expected.get("optionalTopics", []))
    actual = Counter(topic_of(card) for card in cards)
    for topic in optional:
        if actual[topic] > 1:
            return [f"optional topic {topic} appears {actual[topic]} times"]
        actual.pop(topic, None)
    wanted = Counter(expected["topics"])
    if actual != wanted:
        return [
            f"topics: expected {sorted(wanted.elements())}, got {sorted(actual.elements())} "
            f"(indicators: {[(topic_of(c), c.get('indicator')) for c in cards]})"
        ]
    return []


def _forbidden_problems(cards: list[Json], forbidden: list[str]) -> list[str]:
    """Records that must never inform a card. Only the data-quality card may name them: listing
    what was left out is its job (decision-model.md §5)."""
    problems = []
    for card in cards:
        if topic_of(card) == "data-quality":
            continue
        text = json.dumps(card)
        problems += [
            f"{ref} (another patient's / entered-in-error / refuted / malformed) appears on the "
            f"{topic_of(card)} card"
            for ref in forbidden
            if ref.split("/", 1)[1] in text
        ]
    return problems


def card_problems(card: Json, wanted: Mapping[str, Any], patient_id: str) -> list[str]:
    where = f"card {wanted['topic']}"
    problems = []
    if card.get("indicator") != wanted["indicator"]:
        problems.append(
            f"{where}: indicator {card.get('indicator')!r}, expected {wanted['indicator']!r}"
        )
    evidence = evidence_of(card)
    dose = evidence.get("dose")
    if wanted.get("doseAbsent") and dose is not None:
        problems.append(f"{where}: must state no dose (no usable weight), got {dose}")
    if "dose" in wanted:
        problems += _dose_problems(dose, wanted["dose"], where)
    problems += _safety_check_problems(evidence, wanted.get("safetyChecks"), where)
    problems += _evidence_id_problems(evidence, wanted, where)
    problems += _links_problems(card, wanted.get("links", []), where)
    problems += _text_problems(card, wanted, where)
    drafts = [
        action["resource"]
        for suggestion in card.get("suggestions") or []
        for action in suggestion.get("actions") or []
        if isinstance(action.get("resource"), dict)
    ]
    problems += _medication_request_problems(drafts, wanted.get("medicationRequest"), where)
    service_requests = [d for d in drafts if d.get("resourceType") == "ServiceRequest"]
    for order in wanted.get("serviceRequests", []):
        if not any(_order_matches(sr, order) for sr in service_requests):
            problems.append(f"{where}: no suggested ServiceRequest matching {order}")
    for code in wanted.get("serviceRequestsAbsent", []):
        if any(_order_matches(sr, code) for sr in service_requests):
            problems.append(f"{where}: a ServiceRequest coded {code} must not be suggested")
    return problems


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _spellings(token: Any) -> list[str]:
    """A text token, or ``{"date": "2026-04-26"}`` in any of the usual spellings of that date."""
    if isinstance(token, dict) and "date" in token:
        day = date.fromisoformat(token["date"])
        month = MONTHS[day.month - 1]
        return [
            day.isoformat(),
            f"{day.day} {month} {day.year}",
            f"{day.day} {month[:3]} {day.year}",
            f"{day:%d/%m/%Y}",
        ]
    return [str(token)]


def _mentions(text: str, alternatives: Any) -> int:
    """Position of the first of the alternatives in `text` (case-insensitive), or -1."""
    options = alternatives if isinstance(alternatives, list) else [alternatives]
    spellings = [s.lower() for option in options for s in _spellings(option)]
    found = [text.find(s) for s in spellings if s in text]
    return min(found) if found else -1


def _text_problems(card: Json, wanted: Mapping[str, Any], where: str) -> list[str]:
    """What the docs say a card must tell the clinician, checked by the docs' own words."""
    text = f"{card.get('summary', '')}\n{card.get('detail', '')}".lower()
    problems = [
        f"{where}: the card never mentions {alternatives}"
        for alternatives in wanted.get("mentions", [])
        if _mentions(text, alternatives) < 0
    ]
    problems += [
        f"{where}: the card must not say {token!r}"
        for token in wanted.get("notMentions", [])
        if _mentions(text, token) >= 0
    ]
    positions = [_mentions(text, token) for token in wanted.get("mentionsInOrder", [])]
    if positions and (min(positions) < 0 or positions != sorted(positions)):
        problems.append(f"{where}: {wanted['mentionsInOrder']} not all named, in this order")
    detail = str(card.get("detail", "")).lower()
    opening = detail.split("why this card", 1)[0]
    for alternatives in wanted.get("mentionsBeforeWhy", []):
        if _mentions(opening, alternatives) < 0:
            problems.append(f"{where}: the recommendation does not first say {alternatives}")
    return problems


def _decimal_matches(actual: Any, wanted: Any) -> bool:
    try:
        value = Decimal(str(actual))
    except InvalidOperation:
        return False
    if isinstance(wanted, dict):
        if "tolerance" in wanted:
            return abs(value - Decimal(wanted["value"])) <= Decimal(wanted["tolerance"])
        return Decimal(wanted["min"]) <= value <= Decimal(wanted["max"])
    return value == Decimal(wanted)


def _dose_problems(dose: Any, wanted: Mapping[str, Any], where: str) -> list[str]:
    if not isinstance(dose, dict):
        return [f"{where}: no dose object in the evidence"]
    problems = []
    for key, value in wanted.items():
        if key not in dose:
            problems.append(f"{where}: dose.{key} missing (expected {value})")
        elif (
            isinstance(value, bool) or key in NON_DECIMAL_DOSE_FIELDS or key in INTEGER_DOSE_FIELDS
        ):
            if dose[key] != value:
                problems.append(f"{where}: dose.{key} = {dose[key]!r}, expected {value!r}")
        elif not _decimal_matches(dose[key], value):
            problems.append(f"{where}: dose.{key} = {dose[key]!r}, expected {value}")
    return problems


def _same_instant(actual: Any, wanted: str) -> bool:
    try:
        return datetime.fromisoformat(str(actual)) == datetime.fromisoformat(wanted)
    except ValueError:
        return False


def _safety_check_problems(
    evidence: Json, wanted: Mapping[str, Any] | None, where: str
) -> list[str]:
    if not wanted:
        return []
    checks = {
        (c.get("code"), c.get("effect"))
        for c in evidence.get("safetyChecks") or []
        if isinstance(c, dict)
    }
    codes = {code for code, _ in checks}
    problems = [
        f"{where}: safety check {code} ({effect}) expected; got {sorted(checks)}"
        for code, effect in wanted.get("present", [])
        if (code, effect) not in checks
    ]
    problems += [
        f"{where}: safety check {code} must not fire"
        for code in wanted.get("absent", [])
        if code in codes
    ]
    return problems


def _evidence_id_problems(evidence: Json, wanted: Mapping[str, Any], where: str) -> list[str]:
    resources = set(evidence.get("resources") or [])
    problems = [
        f"{where}: evidence lacks {ref}"
        for ref in wanted.get("evidence", [])
        if ref not in resources
    ]
    for group in wanted.get("evidenceAnyOf", []):
        if not resources.intersection(group):
            problems.append(f"{where}: evidence lacks any of {group}")
    return problems


def _links_problems(card: Json, order_sets: list[str], where: str) -> list[str]:
    urls = [link.get("url", "") for link in card.get("links") or []]
    return [
        f"{where}: no link to order set {name}"
        for name in order_sets
        if not any(url.endswith(f"/order-sets/{name}") for url in urls)
    ]


def _medication_request_problems(drafts: list[Json], wanted: Any, where: str) -> list[str]:
    orders = [d for d in drafts if d.get("resourceType") == "MedicationRequest"]
    if wanted is None:
        return []
    if wanted == "absent":
        return [f"{where}: must offer no draft IVIG MedicationRequest"] if orders else []
    if len(orders) != 1:
        return [f"{where}: expected one draft IVIG MedicationRequest, got {len(orders)}"]
    order = orders[0]
    problems = []
    medication = json.dumps(order.get("medicationCodeableConcept", {})).lower()
    if "immune globulin" not in medication and "ivig" not in medication:
        problems.append(f"{where}: the MedicationRequest is not coded as immune globulin")
    dosage = (order.get("dosageInstruction") or [{}])[0]
    dose_quantity = ((dosage.get("doseAndRate") or [{}])[0]).get("doseQuantity") or {}
    if dose_quantity.get("code") != "g" or not _decimal_matches(
        dose_quantity.get("value"), wanted["perDayG"]
    ):
        problems.append(
            f"{where}: MedicationRequest dose {dose_quantity}, expected {wanted['perDayG']} g/day"
        )
    if dose_quantity.get("system") != UCUM:
        problems.append(f"{where}: MedicationRequest doseQuantity must be UCUM")
    repeat = (dosage.get("timing") or {}).get("repeat") or {}
    daily = {"frequency": 1, "period": 1, "periodUnit": "d", "count": wanted["days"]}
    if any(repeat.get(key) != value for key, value in daily.items()):
        problems.append(f"{where}: MedicationRequest timing {repeat}, expected {daily}")
    route = json.dumps(dosage.get("route") or {}).lower()
    if INTRAVENOUS_ROUTE not in route and "intravenous" not in route:
        problems.append(f"{where}: MedicationRequest route is not intravenous")
    return problems


def _order_matches(service_request: Json, wanted: Any) -> bool:
    code = service_request.get("code") or {}
    codes = {c.get("code") for c in code.get("coding") or []}
    if isinstance(wanted, str):
        return wanted in codes
    if codes.intersection(wanted.get("anyCode", [])):
        return True
    text = wanted.get("text")
    words = " ".join(
        [str(code.get("text", ""))] + [str(c.get("display", "")) for c in code.get("coding") or []]
    )
    return bool(text) and text.lower() in words.lower()
