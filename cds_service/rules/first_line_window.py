"""Not yet (decision-model.md section 2): active disease, no red flag, methotrexate < 12 weeks.

The card says when the 12-week point falls, to continue methotrexate, and not to taper steroids
while the disease is active. It does not fire once escalation is due (then ``ivig-start`` or
``escalate-after-ivig`` speaks), nor without any glucocorticoid on record (not yet on first-line
therapy: outside this service's question).
"""

from __future__ import annotations

from datetime import datetime

from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules import refractory
from cds_service.rules.findings import Finding, Indicator
from cds_service.rules.timeutil import day, shift, weeks_between

RULE_ID = "first_line_window"


def evaluate(history: TherapyHistory, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    disease = refractory.assess(history, knowledge, now)
    if not disease.active or disease.escalate or disease.red_flags:
        return ()
    if not disease.had_glucocorticoid or disease.methotrexate_adequate:
        return ()
    if disease.steroid_dependent:
        return ()
    status = refractory.ivig_status(history, knowledge, now, disease.active)
    if status.courses:
        return ()  # already past first-line: IVIG monitoring / escalation rules speak
    trial = knowledge.threshold("methotrexate_adequate_trial_weeks")
    start = disease.methotrexate_start
    notes: tuple[str, ...]
    if start is None:
        twelve_week, weeks = "not started", "0"
        notes = (
            "No methotrexate is on record: first-line induction is a glucocorticoid plus "
            "methotrexate [SHARE2017].",
        )
    else:
        twelve_week, weeks = day(shift(start, trial)), str(weeks_between(start, now))
        notes = ()
    return (
        Finding(
            topic="first-line-window",
            indicator=Indicator.INFO,
            rule_id=RULE_ID,
            resources=disease.resources,
            facts=disease.facts,
            thresholds=disease.thresholds,
            texts={
                "twelve_week_date": twelve_week,
                "mtx_weeks": weeks,
                "mtx_min_weeks": str(trial.value),
            },
            notes=notes,
        ),
    )
