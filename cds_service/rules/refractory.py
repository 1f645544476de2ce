"""Is the disease active, is it refractory, and is it time to escalate (decision-model.md 2-4).

Active disease: an active Condition of muscle weakness or dysphagia, or the latest strength score
showing weakness (CMAS < 48 or MMT-8 < 78). Escalate when the patient has had first-line therapy
(a glucocorticoid and methotrexate), the disease is active, and either a red flag is present or the
response is inadequate after an adequate trial (methotrexate for >= 12 weeks, or a glucocorticoid
dose raised again after a taper). This module decides; ``ivig_start``, ``first_line_window``,
``escalate_after_ivig`` and ``safety`` turn the decision into findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.history.model import IvigCourse, Measurement, SourceRef, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import Fact, ThresholdUse
from cds_service.rules.timeutil import day, shift, weeks_between, window_start

RULE_ID = "refractory"

ACTIVITY_PROBLEMS = ("muscle-weakness", "dysphagia")
RED_FLAG_PROBLEMS: dict[str, str] = {
    "dysphagia": "dysphagia",
    "aspiration": "aspiration",
    "dysphonia": "dysphonia",
    "myocarditis": "myocarditis",
    "ild": "interstitial lung disease",
    "gi-vasculopathy": "GI vasculitis",
    "skin-ulceration": "skin ulceration",
}


@dataclass(frozen=True)
class Sign:
    """One piece of evidence: a symptom, a score, a drug exposure."""

    label: str  # e.g. "dysphagia (active since 2026-02-20)"
    source: SourceRef | None
    at: datetime | None = None


@dataclass(frozen=True)
class DiseaseAssessment:
    active: bool
    activity: tuple[Sign, ...]
    red_flags: tuple[Sign, ...]
    had_glucocorticoid: bool
    methotrexate_start: datetime | None
    methotrexate_adequate: bool
    steroid_dependent: bool
    first_line: bool  # glucocorticoid and methotrexate both on record
    escalate: bool
    reasons: tuple[str, ...]  # why escalate, in words, for the card
    facts: tuple[Fact, ...]
    thresholds: tuple[ThresholdUse, ...]
    resources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class IvigStatus:
    courses: tuple[IvigCourse, ...]
    last_infusion_at: datetime | None
    recent: bool  # an infusion within the recency window: the patient is on IVIG
    failing: bool  # enough courses and the disease still active
    thresholds: tuple[ThresholdUse, ...]

    @property
    def resources(self) -> tuple[SourceRef, ...]:
        return tuple(i.source for c in self.courses for i in c.infusions)


def assess(history: TherapyHistory, knowledge: Knowledge, now: datetime) -> DiseaseAssessment:
    activity, activity_facts, activity_thresholds = _activity(history, knowledge)
    red_flags, flag_facts, flag_thresholds = _red_flags(history, knowledge)
    had_glucocorticoid = bool(
        history.methylprednisolone_pulses
        or history.glucocorticoid is not None
        or history.doses("glucocorticoid-oral")
    )
    mtx = history.methotrexate
    mtx_start = mtx.first_dose_at if mtx is not None else None
    trial = knowledge.threshold("methotrexate_adequate_trial_weeks")
    mtx_adequate = mtx_start is not None and shift(mtx_start, trial) <= now
    steroid_dependent = bool(history.glucocorticoid and history.glucocorticoid.raised_after_taper)
    active = bool(activity)
    first_line = had_glucocorticoid and mtx_start is not None
    reasons = _reasons(red_flags, mtx_adequate, steroid_dependent, mtx_start, now)
    escalate = active and first_line and bool(reasons)
    facts = activity_facts + flag_facts + _methotrexate_facts(history, now)
    signs = [s.source for s in activity + red_flags if s.source is not None]
    resources = tuple(sorted(set(signs) | set(_therapy_resources(history))))
    return DiseaseAssessment(
        active=active,
        activity=activity,
        red_flags=red_flags,
        had_glucocorticoid=had_glucocorticoid,
        methotrexate_start=mtx_start,
        methotrexate_adequate=mtx_adequate,
        steroid_dependent=steroid_dependent,
        first_line=first_line,
        escalate=escalate,
        reasons=reasons,
        facts=facts,
        thresholds=activity_thresholds + flag_thresholds + (ThresholdUse.of(trial),),
        resources=resources,
    )


def _methotrexate_facts(history: TherapyHistory, now: datetime) -> tuple[Fact, ...]:
    mtx = history.methotrexate
    if mtx is None or mtx.first_dose_at is None:
        return ()
    first_source = mtx.events[0].source if mtx.events else None
    return (
        Fact(
            "methotrexate_first_dose", day(mtx.first_dose_at), None, mtx.first_dose_at, first_source
        ),
        Fact("methotrexate_weeks", str(weeks_between(mtx.first_dose_at, now)), "wk"),
    )


def _therapy_resources(history: TherapyHistory) -> list[SourceRef]:
    """The first-line therapy records the decision rests on (pulses, methotrexate, steroid)."""
    refs = [d.source for d in history.methylprednisolone_pulses]
    refs += [d.source for d in history.doses("glucocorticoid-oral")]
    if history.methotrexate is not None:
        refs += [e.source for e in history.methotrexate.events]
    if history.glucocorticoid is not None:
        refs += [p.source for p in history.glucocorticoid.points]
    return refs


def ivig_status(
    history: TherapyHistory, knowledge: Knowledge, now: datetime, disease_active: bool
) -> IvigStatus:
    recency = knowledge.threshold("ivig_recent_weeks")
    failing_at = knowledge.threshold("ivig_failing_courses")
    courses = history.ivig_courses
    infusion_times = [i.at for c in courses for i in c.infusions if i.at <= now]
    last = max(infusion_times) if infusion_times else None
    recent = last is not None and last >= window_start(now, recency)
    failing = disease_active and len(courses) >= failing_at.value
    return IvigStatus(
        courses=courses,
        last_infusion_at=last,
        recent=recent,
        failing=failing,
        thresholds=(ThresholdUse.of(recency), ThresholdUse.of(failing_at)),
    )


def _activity(
    history: TherapyHistory, knowledge: Knowledge
) -> tuple[tuple[Sign, ...], tuple[Fact, ...], tuple[ThresholdUse, ...]]:
    signs = [
        Sign(f"{p.display} (active, {_since(p.onset or p.recorded)})", p.source, p.onset)
        for concept in ACTIVITY_PROBLEMS
        for p in history.active_problems(concept)
    ]
    facts: list[Fact] = []
    used: list[ThresholdUse] = []
    for concept, name, label in (
        ("cmas", "cmas_weakness", "CMAS"),
        ("mmt8", "mmt8_weakness", "MMT-8"),
    ):
        latest = history.latest(concept)
        if latest is None:
            continue
        threshold = knowledge.threshold(name)
        used.append(ThresholdUse.of(threshold))
        facts.append(Fact.of(concept, latest))
        if latest.value < threshold.value:
            signs.append(_score_sign(label, latest, f"< {threshold.value}: weakness"))
    return tuple(signs), tuple(facts), tuple(used)


def _red_flags(
    history: TherapyHistory, knowledge: Knowledge
) -> tuple[tuple[Sign, ...], tuple[Fact, ...], tuple[ThresholdUse, ...]]:
    flags = [
        Sign(f"{label} (active, {_since(p.onset or p.recorded)})", p.source, p.onset)
        for concept, label in RED_FLAG_PROBLEMS.items()
        for p in history.active_problems(concept)
    ]
    used: list[ThresholdUse] = []
    for concept, name, label in (
        ("cmas", "cmas_red_flag", "CMAS"),
        ("mmt8", "mmt8_red_flag", "MMT-8"),
    ):
        latest = history.latest(concept)
        if latest is None:
            continue
        threshold = knowledge.threshold(name)
        used.append(ThresholdUse.of(threshold))
        if latest.value < threshold.value:
            flags.append(_score_sign(label, latest, f"< {threshold.value}: severe weakness"))
    return tuple(flags), (), tuple(used)


def _reasons(
    red_flags: tuple[Sign, ...],
    mtx_adequate: bool,
    steroid_dependent: bool,
    mtx_start: datetime | None,
    now: datetime,
) -> tuple[str, ...]:
    reasons = []
    if red_flags:
        reasons.append("red flag: " + ", ".join(_short(flag.label) for flag in red_flags))
    if mtx_adequate and mtx_start is not None:
        reasons.append(
            f"weakness persists after {weeks_between(mtx_start, now)} weeks of methotrexate"
        )
    if steroid_dependent:
        reasons.append("glucocorticoid dose had to be raised again after a taper")
    return tuple(reasons)


def _score_sign(label: str, measurement: Measurement, comment: str) -> Sign:
    return Sign(
        f"{label} {measurement.value} on {day(measurement.at)} ({comment})",
        measurement.source,
        measurement.at,
    )


def _since(at: datetime | None) -> str:
    return f"since {day(at)}" if at is not None else "onset date not recorded"


def _short(label: str) -> str:
    return label.split(" (", 1)[0]
