"""Checks a hook answer against a scenario's expected.json (fhir_fixtures/scenarios/).

Every check returns a list of human-readable problems (empty = pass), so one failing scenario
reports everything that is wrong with it at once, not only the first mismatch. The card contract
every card must keep is in :mod:`scenario_contract`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from scenario_contract import (
    INTEGER_DOSE_FIELDS,
    INTRAVENOUS_ROUTE,
    NON_DECIMAL_DOSE_FIELDS,
    UCUM,
    Json,
    evidence_of,
    topic_of,
)

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
    what was left out is its job (docs/clinical/decision-model.md §5)."""
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
    problems += _absent_link_problems(card, wanted.get("linksAbsent", []), where)
    if wanted.get("suggestionsAbsent") and card.get("suggestions"):
        problems.append(f"{where}: must offer no draft orders, got {len(card['suggestions'])}")
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
    by_name = set(evidence.get("matchedByName") or [])
    problems += [
        f"{where}: evidence does not say {ref} was matched by name"
        for ref in wanted.get("matchedByName", [])
        if ref not in by_name
    ]
    return problems


def _links_problems(card: Json, order_sets: list[str], where: str) -> list[str]:
    urls = [link.get("url", "") for link in card.get("links") or []]
    return [
        f"{where}: no link to order set {name}"
        for name in order_sets
        if not any(url.endswith(f"/order-sets/{name}") for url in urls)
    ]


def _absent_link_problems(card: Json, order_sets: list[str], where: str) -> list[str]:
    urls = [link.get("url", "") for link in card.get("links") or []]
    return [
        f"{where}: must not link to order set {name}"
        for name in order_sets
        if any(url.endswith(f"/order-sets/{name}") for url in urls)
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
