"""Records no value set matches, screened for what could still change advice (never silent).

Most of a chart matches no value set and cannot change a JDM recommendation: it is counted and
left out. Two kinds are named on the data-quality card instead (``cards/history.json``
``unread_screen``; docs/clinical/decision-model.md, never silent):

- a medication record given or ordered **intravenously** (its route, or a route word in its name),
  or whose name says **immune globulin**, or whose drug is not in the record at all, dated within
  the IVIG look-back of now or still in force: it could be an infusion the IVIG draft must know
  about;
- an **allergy** that is severe (criticality, reaction severity, or an anaphylaxis reaction) to
  an agent that could be a medicine (not a food or an environmental allergen).

Read from the raw JSON, before validation: these are the few records worth a second look among
thousands. The notes carry no concept (nothing was recognised) and their own categories.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from cds_service.history.free_text import FreeTextReader, reader_for
from cds_service.history.model import DataQualityNote
from cds_service.history.select import is_object, note, raw_latest_time
from cds_service.knowledge.history_policy import HistoryPolicy
from cds_service.knowledge.terminology import normalise_text

UNREAD_MEDICATION = "unread-medication"
UNREAD_ALLERGY = "unread-allergy"
# statuses of a medication record that never reached the patient
_NEVER_GIVEN = frozenset({"cancelled", "not-taken", "not-done", "draft", "entered-in-error"})
_IN_FORCE = frozenset({"active", "on-hold", "in-progress", "intended"})
NAME_MAX = 80  # characters of a drug or allergen name quoted on a card


@dataclass(frozen=True)
class Screen:
    """The screening rules of a policy, for one call (`now` and the look-back)."""

    policy: HistoryPolicy
    now: datetime
    since: datetime  # now less thresholds.json ivig_recent_weeks: older records cannot matter

    @cached_property
    def text_reader(self) -> FreeTextReader:
        """The red-flag phrase reader, built once per call (read for thousands of records)."""
        return reader_for(self.policy)

    def medication(
        self, resource: Mapping[str, Any], medication: Mapping[str, Any] | None
    ) -> DataQualityNote | None:
        """A note naming an unclassified IV medication or immune globulin, or None."""
        status = resource.get("status")
        if status in _NEVER_GIVEN:
            return None
        name = _medication_name(resource, medication)
        words = normalise_text(name)
        immune_globulin = any(f" {w} " in words for w in self.policy.immune_globulin_words)
        intravenous = self._intravenous(resource, words)
        # its Medication was not sent and nothing names the drug: it could be anything
        unknown_drug = not name and medication is None and "medicationReference" in resource
        if not (immune_globulin or intravenous or unknown_drug):
            return None
        at = raw_latest_time(resource, self.now.tzinfo or UTC)
        in_force = status in _IN_FORCE
        if not in_force and at is not None and at < self.since:
            return None  # given long ago: it cannot be an infusion the next course must know of
        if unknown_drug:
            reason = "a medicine whose drug is not in the record (its Medication was not sent)"
        else:
            what = "an immune globulin" if immune_globulin else "an intravenous medicine"
            shown = f"“{_short(name)}”" if name else "(no name)"
            reason = f"{what} the service does not recognise: {shown}"
        found = note(str(resource["resourceType"]), resource.get("id"), reason, UNREAD_MEDICATION)
        return _dated(found, None if in_force else at)

    def _intravenous(self, resource: Mapping[str, Any], name_words: str) -> bool:
        route_names = self.policy.route_names
        for route in _routes(resource):
            for coding in route.get("coding") or []:
                if is_object(coding):
                    token = f"{coding.get('system')}|{coding.get('code')}"
                    if self.policy.route_codes.get(token) == "intravenous":
                        return True
            texts = [route.get("text"), *(c.get("display") for c in route.get("coding") or [])]
            route_words = normalise_text(" ; ".join(t for t in texts if isinstance(t, str)))
            if any(f" {w} " in route_words for w, r in route_names.items() if r == "intravenous"):
                return True
        return any(f" {w} " in name_words for w, r in route_names.items() if r == "intravenous")

    def allergy(self, resource: Mapping[str, Any]) -> DataQualityNote | None:
        """A note naming a severe allergy to an agent the service cannot classify, or None."""
        policy = self.policy
        categories = resource.get("category")
        if isinstance(categories, list) and categories:
            if all(c in policy.not_medicine_categories for c in categories):
                return None  # a food or an environmental allergen
        severe = resource.get("criticality") in policy.severe_criticality
        manifestations: list[str] = []
        for reaction in _objects(resource.get("reaction")):
            if reaction.get("severity") in policy.severe_reaction_severity:
                severe = True
            for manifestation in _objects(reaction.get("manifestation")):
                text = _codeable_text(manifestation)
                if _is_anaphylaxis(manifestation, text, policy):
                    severe = True
                if text:
                    manifestations.append(text)
        if not severe:
            return None
        agent = _codeable_text(resource.get("code"))
        shown = f"“{_short(agent)}”" if agent else "(agent not named)"
        reaction_text = f" ({_short(', '.join(manifestations))})" if manifestations else ""
        reason = f"severe, to an agent the service does not classify: {shown}"
        found = note(
            "AllergyIntolerance", resource.get("id"), reason + reaction_text, UNREAD_ALLERGY
        )
        return _dated(found, raw_latest_time(resource, self.now.tzinfo or UTC))


def _dated(found: DataQualityNote, at: datetime | None) -> DataQualityNote:
    return DataQualityNote(
        found.resource_type, found.resource_id, found.reason, found.category, None, at
    )


def _routes(resource: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The route of each dosage of a medication record."""
    dosages = resource.get("dosageInstruction", resource.get("dosage"))
    if is_object(dosages):
        dosages = [dosages]
    for dosage in dosages if isinstance(dosages, list) else []:
        if is_object(dosage) and is_object(dosage.get("route")):
            yield dosage["route"]


def _medication_name(resource: Mapping[str, Any], medication: Mapping[str, Any] | None) -> str:
    """The words naming the drug: its Medication's code, its own code, or the reference's text."""
    codeable = (medication or {}).get("code") or resource.get("medicationCodeableConcept")
    name = _codeable_text(codeable)
    if not name:
        reference = resource.get("medicationReference")
        display = reference.get("display") if is_object(reference) else None
        name = display if isinstance(display, str) else ""
    return name


def _codeable_text(codeable: Any) -> str:
    if not is_object(codeable):
        return ""
    text = codeable.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for coding in _objects(codeable.get("coding")):
        display = coding.get("display")
        if isinstance(display, str) and display.strip():
            return display.strip()
    return ""


def _is_anaphylaxis(manifestation: Mapping[str, Any], text: str, policy: HistoryPolicy) -> bool:
    for coding in _objects(manifestation.get("coding")):
        if f"{coding.get('system')}|{coding.get('code')}" in policy.anaphylaxis_codes:
            return True
    lowered = text.lower()
    return any(stem in lowered for stem in policy.anaphylaxis_names)


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if is_object(item)] if isinstance(value, list) else []


def _short(text: str) -> str:
    return text if len(text) <= NAME_MAX else text[: NAME_MAX - 1].rsplit(" ", 1)[0] + "…"
