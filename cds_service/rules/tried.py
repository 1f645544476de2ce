"""What was already tried (docs/clinical/decision-model.md §4, "What was already tried"): a
second-line agent the escalation options name, as the record holds it.

An option offered as if new when the child has already had it reads as the service not having
looked. For each agent the escalation cards offer (ciclosporin, cyclophosphamide, and the expert
centre's mycophenolate, tacrolimus and JAK inhibitors) the cards say what is on record: the doses
given and the last date (with the total in grams for cyclophosphamide, whose cumulative dose
limits more pulses), else the date it was reported taken from, else the date it was ordered from.
Only what the history reads counts: a dose not given, a cancelled or planned order and a topical
product (ciclosporin eye drops, tacrolimus ointment) never get here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cds_service.history.model import DoseEvent, DoseStatus, SourceRef, TherapyHistory
from cds_service.knowledge.concepts import AgentConcept
from cds_service.rules.findings import Fact

# the escalation options' agents, in the order the cards name them
OPTION_AGENTS: tuple[AgentConcept, ...] = (
    "cyclosporine",
    "cyclophosphamide",
    "mycophenolate",
    "tacrolimus",
    "jak-inhibitor",
)
# the expert-centre options the escalation card names without a dose
EXPERT_CENTRE_AGENTS: tuple[AgentConcept, ...] = ("mycophenolate", "tacrolimus", "jak-inhibitor")


@dataclass(frozen=True)
class AgentTried:
    """One agent on record: doses given (administrations), reported use, orders."""

    agent: AgentConcept
    given: tuple[DoseEvent, ...]  # administrations, ascending
    reported: tuple[DoseEvent, ...]  # statements of use, ascending
    ordered: tuple[DoseEvent, ...]  # orders, ascending

    @property
    def events(self) -> tuple[DoseEvent, ...]:
        return self.given + self.reported + self.ordered

    @property
    def first(self) -> datetime:
        return min(e.at for e in self.events)

    @property
    def last_given(self) -> datetime | None:
        return self.given[-1].at if self.given else None

    @property
    def total_mg(self) -> Decimal | None:
        """The sum of the doses given; None when any of them has no amount in mg."""
        amounts = [e.amount_mg for e in self.given]
        if not amounts or any(a is None for a in amounts):
            return None
        return sum((a for a in amounts if a is not None), Decimal(0))

    @property
    def resources(self) -> tuple[SourceRef, ...]:
        return tuple(dict.fromkeys(e.source for e in self.events))

    @property
    def fact(self) -> Fact:
        """``cyclophosphamide_tried``: how many doses given, dated by the last one (or the first
        record), from its record."""
        latest = self.given[-1] if self.given else self.events[0]
        return Fact(f"{self.agent}_tried", str(len(self.given)), "doses", latest.at, latest.source)


def agent_tried(history: TherapyHistory, agent: AgentConcept) -> AgentTried | None:
    """The agent's record, or None when the history holds none of it."""
    events = sorted(history.doses(agent), key=lambda e: (e.at, e.source.reference))
    if not events:
        return None
    return AgentTried(
        agent,
        given=tuple(e for e in events if e.status is DoseStatus.GIVEN),
        reported=tuple(e for e in events if e.status is DoseStatus.REPORTED),
        ordered=tuple(e for e in events if e.status in (DoseStatus.ORDERED, DoseStatus.EXPECTED)),
    )


def agents_tried(
    history: TherapyHistory, agents: tuple[AgentConcept, ...] = OPTION_AGENTS
) -> tuple[AgentTried, ...]:
    return tuple(t for agent in agents if (t := agent_tried(history, agent)) is not None)
