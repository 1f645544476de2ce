"""Which concepts each clinical rule looks at (``cards/decision.json``).

The lists a paediatric rheumatologist may review: the red flags, the problems that make disease
active, organ involvement, the organ screen, what IVIG monitoring expects, thrombosis risks, the
safety checks that change the IVIG split and rate, and the steroid-taper milestones. The loader
checks every id against the value sets' kinds and the safety checks, so a typo stops startup.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cds_service.knowledge.concepts import (
    AgentConcept,
    MeasurementConcept,
    ProblemConcept,
    ProcedureConcept,
    agent_concept,
    concept_kind,
    measurement_concept,
    problem_concept,
    procedure_concept,
)
from cds_service.knowledge.files import field_error, read_validated

K = TypeVar("K")


@dataclass(frozen=True)
class TaperFloor:
    before_months: int
    threshold: str  # a key of thresholds.json


@dataclass(frozen=True)
class DecisionLists:
    activity_problems: tuple[ProblemConcept, ...]
    red_flag_problems: tuple[ProblemConcept, ...]
    organ_involvement: tuple[ProblemConcept, ...]
    swallow_problems: tuple[ProblemConcept, ...]
    # old problem-list entries that later inactive-range scores can contradict (stale)
    stale_when_inactive: tuple[ProblemConcept, ...]
    severe_organ: tuple[ProblemConcept, ...]  # organ-threatening whenever active
    severe_when_graded: tuple[ProblemConcept, ...]  # organ-threatening when recorded as severe
    extramuscular_screen: tuple[ProcedureConcept, ...]
    monitoring_labs: tuple[MeasurementConcept, ...]
    monitoring_scores: tuple[MeasurementConcept, ...]
    thrombosis_any_status: tuple[ProblemConcept, ...]
    thrombosis_active_only: tuple[ProblemConcept, ...]
    thrombosis_agents: tuple[AgentConcept, ...]
    five_day_risks: frozenset[str]  # safety-check codes
    slow_rate_risks: frozenset[str]
    draft_by_specialist: frozenset[str]  # checks after which no IVIG draft is offered
    taper_floors: tuple[TaperFloor, ...]  # ascending by months
    dose_agents: tuple[AgentConcept, ...]  # agents whose dose the rules read

    @property
    def concepts(self) -> frozenset[str]:
        """Every concept named in the lists (each needs a label in card-texts.json)."""
        return frozenset(
            (
                *self.activity_problems,
                *self.red_flag_problems,
                *self.organ_involvement,
                *self.severe_organ,
                *self.severe_when_graded,
                *self.stale_when_inactive,
                *self.extramuscular_screen,
                *self.monitoring_labs,
                *self.monitoring_scores,
                *self.thrombosis_any_status,
                *self.thrombosis_active_only,
                *self.thrombosis_agents,
            )
        )


def load_decision(cards: Path, check_codes: Collection[str]) -> tuple[DecisionLists, Any]:
    """The lists, and the raw document (card wording may bind its numbers)."""
    path = cards / "decision.json"
    raw = read_validated(path, cards / "schemas" / "decision.schema.json")
    lists = _Reader(path, raw)
    floors = tuple(TaperFloor(f["beforeMonths"], f["threshold"]) for f in raw["taperFloors"])
    months = [floor.before_months for floor in floors]
    if months != sorted(set(months)):
        raise field_error(path, "taperFloors", "milestones must rise month by month")
    return (
        DecisionLists(
            activity_problems=lists.concepts("activityProblems.concepts", problem_concept),
            red_flag_problems=lists.concepts("redFlagProblems.concepts", problem_concept),
            organ_involvement=lists.concepts("organInvolvement.concepts", problem_concept),
            swallow_problems=lists.concepts("swallowProblems.concepts", problem_concept),
            stale_when_inactive=lists.concepts("staleWhenInactive.concepts", problem_concept),
            severe_organ=lists.concepts("severeOrganDisease.concepts", problem_concept),
            severe_when_graded=lists.concepts("severeWhenGraded.concepts", problem_concept),
            extramuscular_screen=lists.concepts("extramuscularScreen.concepts", procedure_concept),
            monitoring_labs=lists.concepts("ivigMonitoring.labs", measurement_concept),
            monitoring_scores=lists.concepts("ivigMonitoring.scores", measurement_concept),
            thrombosis_any_status=lists.concepts("thrombosisRisks.anyStatus", problem_concept),
            thrombosis_active_only=lists.concepts("thrombosisRisks.activeOnly", problem_concept),
            thrombosis_agents=lists.concepts("thrombosisRisks.agents", agent_concept),
            five_day_risks=lists.checks("ivigFiveDayRisks.checks", check_codes),
            slow_rate_risks=lists.checks("ivigSlowRateRisks.checks", check_codes),
            draft_by_specialist=lists.checks("ivigDraftBySpecialist.checks", check_codes),
            taper_floors=floors,
            dose_agents=lists.concepts("dataQualityDoseAgents.concepts", agent_concept),
        ),
        raw,
    )


class _Reader:
    def __init__(self, path: Path, raw: Mapping[str, Any]) -> None:
        self.path = path
        self.raw = raw

    def _items(self, dotted: str) -> Sequence[str]:
        node: Any = self.raw
        for part in dotted.split("."):
            node = node[part]
        items: Sequence[str] = node
        return items

    def concepts(self, dotted: str, narrow: Callable[[str], K]) -> tuple[K, ...]:
        result: list[K] = []
        for index, key in enumerate(self._items(dotted)):
            try:
                result.append(narrow(key))
            except ValueError:
                kind = concept_kind(key)
                found = f"a {kind} concept" if kind else "no concept id"
                raise field_error(self.path, f"{dotted}.{index}", f"{key!r} is {found}") from None
        return tuple(result)

    def checks(self, dotted: str, check_codes: Collection[str]) -> frozenset[str]:
        for index, code in enumerate(self._items(dotted)):
            if code not in check_codes:
                raise field_error(self.path, f"{dotted}.{index}", f"no safety check {code!r}")
        return frozenset(self._items(dotted))
