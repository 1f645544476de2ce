"""Why a card fired, as dated lines a clinician reads first: the signs of active disease, the red
flags, the first-line therapy it rests on. Built from the rule's facts; the thresholds and record
ids behind them stay in the evidence extension.
"""

from __future__ import annotations

from cds_service.card_builder.markdown import md_escape
from cds_service.card_builder.timeline import line_start
from cds_service.card_builder.units_display import measured_text
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.thresholds import COMPARISON_SIGNS
from cds_service.rules.dysphagia import DysphagiaSubject
from cds_service.rules.findings import Finding
from cds_service.rules.methotrexate_schedule import GivenRun, MethotrexateScheduleSubject
from cds_service.rules.refractory import DiseaseAssessment, Sign
from cds_service.rules.timeutil import day


def why_lines(finding: Finding, knowledge: Knowledge) -> list[str]:
    """The reasons of the finding, each with its date; [] for topics whose words say it all."""
    subject = finding.subject
    disease = getattr(subject, "disease", None)
    lines = disease_lines(disease, knowledge) if isinstance(disease, DiseaseAssessment) else []
    if isinstance(subject, DysphagiaSubject):
        lines += [
            knowledge.texts.phrase("why.finding", sign=line_start(sign_text(sign, knowledge)))
            for sign in subject.signs
        ]
    if isinstance(subject, MethotrexateScheduleSubject):
        lines += [_given_line(run, knowledge) for run in subject.given]
    return lines


def _given_line(run: GivenRun, knowledge: Knowledge) -> str:
    """``Methotrexate given 3 times from ... : 15 mg on 2026-03-02; ...``."""
    doses = "; ".join(
        knowledge.texts.phrase(
            "why.methotrexateGivenDose", dose=md_escape(d.dose_as_written), date=day(d.at)
        )
        for d in run.doses
    )
    return knowledge.texts.phrase(
        "why.methotrexateGiven",
        count=str(len(run.doses)),
        first=day(run.doses[0].at),
        last=day(run.doses[-1].at),
        most=str(run.most_in_window),
        doses=doses,
    )


def disease_lines(disease: DiseaseAssessment, knowledge: Knowledge) -> list[str]:
    phrase = knowledge.texts.phrase
    lines = []
    flagged = {(s.concept, s.source) for s in disease.red_flags}
    activity = [s for s in disease.activity if (s.concept, s.source) not in flagged]
    if activity:
        lines.append(
            phrase("why.active", signs="; ".join(sign_text(s, knowledge) for s in activity))
        )
    if disease.red_flags:
        lines.append(
            phrase(
                "why.redFlag",
                flags="; ".join(sign_text(s, knowledge) for s in disease.red_flags),
            )
        )
    if disease.methotrexate_adequate and disease.methotrexate_weeks is not None:
        weeks = str(disease.methotrexate_weeks)
        stopped = disease.methotrexate_stopped_at
        lines.append(
            phrase("why.methotrexate", weeks=weeks)
            if stopped is None
            else phrase("why.methotrexateStopped", weeks=weeks, date=day(stopped))
        )
    if disease.steroid_dependent:
        lines.append(phrase("why.steroidDependent"))
    return lines


def sign_text(sign: Sign, knowledge: Knowledge) -> str:
    """``CMAS 28 on 2026-03-10 (< 48)``, ``dysphagia since 2026-02-19``, or a quoted phrase."""
    texts = knowledge.texts
    label = concept_name(sign.concept, knowledge)
    measured = sign.measurement
    if measured is not None:
        threshold = sign.threshold
        limit = (
            texts.phrase(
                "sign.threshold",
                comparison=COMPARISON_SIGNS[threshold.comparison],
                value=format(threshold.value.normalize(), "f"),
            )
            if threshold is not None
            else ""
        )
        value = measured_text(measured.value, measured.unit)
        return texts.phrase(
            "sign.score", label=label, value=md_escape(value), date=day(measured.at), limit=limit
        )
    problem = sign.problem
    if problem is not None and problem.quote:
        date = day(sign.at) if sign.at else ""
        return texts.phrase("sign.freeText", label=label, quote=md_escape(problem.quote), date=date)
    if sign.at is not None:
        return texts.phrase("sign.problem", label=label, date=day(sign.at))
    return label


def concept_name(concept: str, knowledge: Knowledge) -> str:
    """How cards name a concept: its label, else its value set's title."""
    label = knowledge.texts.labels.get(concept)
    return label if label is not None else knowledge.terminology.info(concept).title
