"""Not yet (docs/clinical/decision-model.md §2): active disease, no red flag, methotrexate short of
the trial.

The card says when the trial's end falls, to continue methotrexate, and not to taper steroids
while the disease is active. It does not fire once escalation is due (then ``ivig-start`` or
``escalate-after-ivig`` speaks), nor without any glucocorticoid on record (not yet on first-line
therapy: outside this service's question).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Finding
from cds_service.rules.refractory import DiseaseAssessment, methotrexate_exposure_end
from cds_service.rules.timeutil import shift

RULE_ID = "first_line_window"


@dataclass(frozen=True)
class FirstLineSubject:
    trial_end: datetime | None  # when methotrexate will have run the adequate trial
    methotrexate_weeks: Decimal | None  # None: no methotrexate on record
    disease: DiseaseAssessment | None = None  # the signs of activity the card names


def evaluate(context: ClinicalContext, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    disease = context.disease
    if not disease.active or disease.escalate or disease.red_flags:
        return ()
    if not disease.had_glucocorticoid or disease.methotrexate_adequate:
        return ()
    if disease.steroid_dependent or context.ivig.courses:
        return ()  # past first-line: IVIG monitoring / escalation rules speak
    start = disease.methotrexate_start
    trial = knowledge.threshold("methotrexate_adequate_trial_weeks")
    trial_end = shift(start, trial) if start is not None else None
    stopped = disease.methotrexate_stopped_at is not None
    if start is not None and trial_end is not None and stopped:
        # a stopped course is no trial under way: the adequate trial ends that much after today
        # if methotrexate is restarted now
        trial_end = (
            now
            + (trial_end - start)
            - (methotrexate_exposure_end(context.history, knowledge, now) - start)
        )
    notes = ("noMethotrexate",) if start is None else ("methotrexateStopped",) if stopped else ()
    return (
        Finding(
            topic="first-line-window",
            rule_id=RULE_ID,
            resources=disease.resources,
            facts=disease.facts,
            thresholds=disease.thresholds,
            subject=FirstLineSubject(trial_end, disease.methotrexate_weeks, disease),
            note_keys=notes,
        ),
    )
