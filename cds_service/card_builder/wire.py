"""The CDS Hooks 2.0 response shapes this service writes, as TypedDicts named as the spec names
fields (a key missing from a card is a type error, not a client's surprise).

Optional fields are ``NotRequired``: the card builder omits them rather than sending ``null`` or
an empty list. The evidence extension is the project's own (docs/clinical/card-contract.md).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class Coding(TypedDict):
    system: str
    code: str
    display: str


class Source(TypedDict):
    label: str
    url: NotRequired[str]
    topic: Coding


class Action(TypedDict):
    type: Literal["create", "update", "delete"]
    description: str
    resource: NotRequired[dict[str, Any]]  # a FHIR resource (create, update)
    resourceId: NotRequired[list[str]]  # "Type/id" (delete)


class Suggestion(TypedDict):
    label: str
    uuid: str
    isRecommended: NotRequired[bool]
    actions: list[Action]


class Link(TypedDict):
    label: str
    url: str
    type: Literal["absolute", "smart"]


class EvidenceFact(TypedDict):
    name: str
    value: str
    unit: NotRequired[str]
    at: NotRequired[str]
    source: NotRequired[str]


class EvidenceThreshold(TypedDict):
    name: str
    value: str
    unit: str
    comparison: str
    sourceKey: str


class EvidenceCheck(TypedDict):
    code: str
    effect: str


class Evidence(TypedDict):
    """``card.extension["org.jdm-cds.evidence"]``: why the card fired, machine-readable."""

    topic: str
    ruleId: str
    resources: NotRequired[list[str]]
    facts: NotRequired[list[EvidenceFact]]
    thresholds: NotRequired[list[EvidenceThreshold]]
    dose: NotRequired[dict[str, Any]]  # IvigDose.evidence() / RituximabDose.evidence()
    safetyChecks: NotRequired[list[EvidenceCheck]]
    matchedByName: NotRequired[list[str]]
    # order-select / order-sign cards: the order checked and every topic it fired
    order: NotRequired[dict[str, Any]]


class Card(TypedDict):
    uuid: str
    summary: str
    indicator: Literal["info", "warning", "critical"]
    detail: str
    source: Source
    suggestions: NotRequired[list[Suggestion]]
    selectionBehavior: NotRequired[Literal["at-most-one", "any"]]
    overrideReasons: NotRequired[list[Coding]]
    links: NotRequired[list[Link]]
    extension: NotRequired[dict[str, Evidence]]  # always written, last: the evidence
