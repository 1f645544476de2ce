"""Clinical rules: pure functions ``(history, knowledge, now) -> findings``.

One module per clinical question of decision-model.md. :func:`evaluate_all` applies the scope gate
and runs them in the card contract's topic order. No rule reads the clock, the network or the
database; each takes ``now``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules import (
    data_quality,
    dysphagia,
    escalate_after_ivig,
    extramuscular,
    first_line_window,
    ivig_monitoring,
    ivig_start,
    safety,
    steroid_taper,
)
from cds_service.rules.findings import Finding
from cds_service.rules.scope import assess_scope

Rule = Callable[[TherapyHistory, Knowledge, datetime], tuple[Finding, ...]]

RULES: tuple[Rule, ...] = (
    ivig_start.evaluate,
    first_line_window.evaluate,
    dysphagia.evaluate,
    safety.evaluate,
    ivig_monitoring.evaluate,
    escalate_after_ivig.evaluate,
    extramuscular.evaluate,
    steroid_taper.evaluate,
)


def evaluate_all(
    history: TherapyHistory,
    knowledge: Knowledge,
    now: datetime,
    gather_notes: Sequence[str] = (),
) -> tuple[Finding, ...]:
    """Every finding for an in-scope patient; () for anyone out of scope (deceased, no JDM...)."""
    if not assess_scope(history, now).in_scope:
        return ()
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(history, knowledge, now))
    findings.extend(data_quality.evaluate(history, knowledge, now, gather_notes))
    return tuple(findings)
