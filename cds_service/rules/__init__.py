"""Clinical rules: pure functions ``(context, knowledge, now) -> findings``.

One module per clinical question of docs/clinical/decision-model.md. :func:`evaluate_all`
computes the shared context once (:mod:`cds_service.rules.context`), applies the scope gate and
runs the rules in the card contract's topic order. No rule reads the clock, the network or the
database; each takes ``now``. Rules return facts; the card builder words them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cds_service.knowledge.loader import Knowledge
from cds_service.rules import (
    data_quality,
    dysphagia,
    escalate_after_ivig,
    extramuscular,
    first_line_window,
    ivig_course_due,
    ivig_monitoring,
    ivig_start,
    methotrexate_schedule,
    pregnancy,
    safety,
    severe_organ,
    steroid_taper,
)
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Finding

Rule = Callable[[ClinicalContext, Knowledge, datetime], tuple[Finding, ...]]
CONDITION_LABEL = "Condition"  # how gather notes name the diagnoses' search (gather/registry.py)

RULES: tuple[Rule, ...] = (
    methotrexate_schedule.evaluate,
    severe_organ.evaluate,
    ivig_start.evaluate,
    ivig_course_due.evaluate,
    first_line_window.evaluate,
    dysphagia.evaluate,
    safety.evaluate,
    ivig_monitoring.evaluate,
    escalate_after_ivig.evaluate,
    extramuscular.evaluate,
    steroid_taper.evaluate,
    data_quality.evaluate,
)


def evaluate_all(
    context: ClinicalContext, knowledge: Knowledge, now: datetime
) -> tuple[Finding, ...]:
    """Every finding for an in-scope patient; () for anyone out of scope (deceased, no JDM...).

    One exception, never silent: when no JDM diagnosis was found but the diagnoses could not all
    be read (a Condition search cut short or failed), the data-quality card says so, since the
    patient may have JDM (docs/clinical/decision-model.md §0)."""
    if not context.scope.in_scope:
        if context.scope.no_diagnosis and any(
            note.startswith(CONDITION_LABEL) for note in context.gather_notes
        ):
            return data_quality.evaluate(context, knowledge, now)
        return ()
    findings = tuple(finding for rule in RULES for finding in rule(context, knowledge, now))
    # a schedule more often than weekly changes every card that goes on with methotrexate
    findings = methotrexate_schedule.annotate(findings, context.history, knowledge, now)
    # pregnancy changes every card that names methotrexate, cyclophosphamide, MMF or rituximab
    return pregnancy.annotate(findings, context.history, knowledge, now)
