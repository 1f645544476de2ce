"""The IVIG safety checks of docs/clinical/safety.md, each returning a result or None.

Each check decides whether it fires and on which facts; its effect (hard stop, warning or note)
and its words come from ``cards/card-texts.json``. A hard stop turns ``ivig-start`` critical and
removes the draft order; a warning gets a card of its own (``ivig-safety-<code>``); a note is a
line in ``ivig-start``'s **Safety** part. A check that lacks the data it needs says so (a note);
it never assumes normal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from cds_service.history.model import (
    CodedResult,
    DoseEvent,
    DoseStatus,
    GlucocorticoidPoint,
    ImmunizationFact,
    Measurement,
    SourceRef,
    TherapyHistory,
)
from cds_service.history.units import FACTORS
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import (
    CheckReason,
    Effect,
    Fact,
    ReasonKind,
    SafetyCheckResult,
    ThresholdUse,
)
from cds_service.rules.scope import ADULT_AGE_YEARS

# µmol/L per mg/dL: the laboratory convention the unit table converts with
CREATININE_UMOL_PER_MG_DL = FACTORS["creatinine"]["mg/dL"]


def fired(
    knowledge: Knowledge,
    code: str,
    reasons: Sequence[CheckReason],
    resources: Sequence[SourceRef] = (),
    facts: Sequence[Fact] = (),
    thresholds: Sequence[ThresholdUse] = (),
) -> SafetyCheckResult:
    """A fired check, with the effect the knowledge base gives it."""
    effect = Effect(knowledge.texts.safety_checks[code].effect)
    return SafetyCheckResult(
        code, effect, tuple(reasons), tuple(resources), tuple(facts), tuple(thresholds)
    )


def anaphylaxis_to_ig(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    severe = [a for a in h.allergies if a.concept == "immune-globulin" and a.severe]
    if not severe:
        return None
    reasons = [CheckReason("allergy", text=a.description) for a in severe]
    return fired(k, "anaphylaxis-to-ig", reasons, [a.source for a in severe])


def ig_reaction_mild(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    mild = [a for a in h.allergies if a.concept == "immune-globulin" and not a.severe]
    if not mild or any(a.severe for a in h.allergies if a.concept == "immune-globulin"):
        return None
    reasons = [CheckReason("allergy", text=a.description) for a in mild]
    return fired(k, "ig-reaction-mild", reasons, [a.source for a in mild])


def iga_deficiency(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    """IgA deficiency: a warning (``iga-deficiency``); with anti-IgA antibodies on record, the
    ``anti-iga`` warning; with anti-IgA antibodies and any recorded reaction to immune globulin,
    the ``anti-iga-reaction`` hard stop [Octagam-PI]. A mildly low IgA is the ``iga-low`` note."""
    deficiency = _iga_deficiency(h, k)
    if deficiency is None:
        return _iga_low(h, k)
    reason, refs, facts, thresholds = deficiency
    antibodies = _anti_iga_positive(h)
    if antibodies is None:
        return fired(k, "iga-deficiency", [reason], refs, facts, thresholds)
    reasons = [reason, CheckReason("anti-iga", at=antibodies.at)]
    refs = [*refs, antibodies.source]
    # any recorded reaction to immune globulin, mild or not, counts as a prior hypersensitivity
    reactions = [a for a in h.allergies if a.concept == "immune-globulin"]
    if not reactions:
        return fired(k, "anti-iga", reasons, refs, facts, thresholds)
    reasons += [CheckReason("allergy", text=a.description) for a in reactions]
    refs += [a.source for a in reactions]
    return fired(k, "anti-iga-reaction", reasons, refs, facts, thresholds)


IgaDeficiency = tuple[CheckReason, list[SourceRef], list[Fact], list[ThresholdUse]]


def _iga_deficiency(h: TherapyHistory, k: Knowledge) -> IgaDeficiency | None:
    problems = h.active_problems("iga-deficiency")
    if problems:
        return CheckReason("iga-problem-list"), [p.source for p in problems], [], []
    latest = h.latest("iga")
    if latest is None:
        return None
    # selective IgA deficiency is an IgA under 7 mg/dL, whatever the lab's range for age: a value
    # only under the range is a mildly low IgA (a note), not a deficiency
    threshold = k.threshold("iga_low_mg_dl")
    if not threshold.crossed(latest.value):
        return None
    used = ThresholdUse.of(threshold)
    reason = CheckReason("iga-below-threshold", measurement=latest, threshold=used)
    return reason, [latest.source], [Fact.of("iga", latest)], [used]


def _iga_low(h: TherapyHistory, k: Knowledge) -> SafetyCheckResult | None:
    latest = h.latest("iga")
    if latest is None or latest.reference_low is None or latest.value >= latest.reference_low:
        return None
    used = ThresholdUse.of(k.threshold("iga_low_mg_dl"))
    reason = CheckReason("iga-below-range", measurement=latest, threshold=used)
    return fired(k, "iga-low", [reason], [latest.source], [Fact.of("iga", latest)], [used])


def _anti_iga_positive(h: TherapyHistory) -> CodedResult | None:
    """The latest anti-IgA antibody result when it is positive (a later negative ends it)."""
    results = [r for r in h.coded_results if r.concept == "anti-iga"]
    latest = max(results, key=lambda r: r.at, default=None)
    return latest if latest is not None and latest.value == "positive" else None


def iga_unknown(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    if h.series("iga") or h.active_problems("iga-deficiency") or h.ivig_courses:
        return None
    return fired(k, "iga-unknown", [CheckReason("iga-unknown")])


def renal(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    """`renal-severe` (hard stop) replaces `renal` (warning); no data at all -> a note.

    Without a recorded eGFR, a child's creatinine and a height near it give the bedside Schwartz
    estimate (said as such on the card); a creatinine with no eGFR, no lab range and no height is
    a note that renal function cannot be judged, never silence."""
    egfr, creatinine = h.latest("egfr"), h.latest("creatinine")
    problems = h.active_problems("renal-impairment")
    if egfr is None and creatinine is None and not problems:
        return fired(k, "renal-unknown", [CheckReason("renal-unknown")])
    inputs: tuple[Measurement, ...] = ()
    if egfr is None and creatinine is not None:
        egfr, height = bedside_schwartz(h, k, creatinine)
        inputs = (height, creatinine) if height is not None else ()
    kind: ReasonKind = "egfr-schwartz" if inputs else "egfr-low"
    severe = _renal_severe(h, k, egfr, creatinine, kind, inputs)
    if severe is not None:
        return severe
    warning = k.threshold("egfr_renal_warning")
    reasons = [CheckReason("renal-problem", text=p.display) for p in problems]
    refs, facts = [p.source for p in problems], []
    if egfr is not None and warning.crossed(egfr.value):
        reasons.append(
            CheckReason(kind, measurement=egfr, threshold=ThresholdUse.of(warning), inputs=inputs)
        )
        refs.append(egfr.source)
        facts.append(Fact.of("egfr", egfr))
    if (
        creatinine is not None
        and creatinine.reference_high is not None
        and creatinine.value > creatinine.reference_high
    ):
        reasons.append(CheckReason("creatinine-high", measurement=creatinine))
        refs.append(creatinine.source)
        facts.append(Fact.of("creatinine", creatinine))
    if not reasons and egfr is None and creatinine is not None:
        if creatinine.reference_high is None:
            reason = CheckReason("creatinine-unjudged", measurement=creatinine)
            return fired(k, "renal-unjudged", [reason], [creatinine.source])
    if not reasons:
        return None
    return fired(k, "renal", reasons, refs, facts, [ThresholdUse.of(warning)])


def bedside_schwartz(
    h: TherapyHistory, k: Knowledge, creatinine: Measurement
) -> tuple[Measurement | None, Measurement | None]:
    """(the bedside Schwartz eGFR of a child, the height it used), or (None, None) for an adult or
    without a height within the dosing height window of the creatinine."""
    if h.patient.age_years is None or h.patient.age_years >= ADULT_AGE_YEARS:
        return None, None
    window = timedelta(days=int(k.dosing.weight.height_window_days.value))
    heights = [m for m in h.series("height") if abs(m.at - creatinine.at) <= window]
    if not heights or creatinine.value <= 0:
        return None, None
    height = min(heights, key=lambda m: abs(m.at - creatinine.at))
    mg_dl = creatinine.value / CREATININE_UMOL_PER_MG_DL
    value = (k.dosing.egfr.schwartz_k.value * height.value / mg_dl).quantize(Decimal(1))
    estimate = replace(
        creatinine,
        concept="egfr",
        value=value,
        unit="mL/min/{1.73_m2}",
        reference_low=None,
        reference_high=None,
        original="bedside Schwartz estimate",
        estimated=True,
    )
    return estimate, height


def _renal_severe(
    h: TherapyHistory,
    k: Knowledge,
    egfr: Measurement | None,
    creatinine: Measurement | None,
    kind: ReasonKind,
    inputs: tuple[Measurement, ...],
) -> SafetyCheckResult | None:
    hard = k.threshold("egfr_renal_hard_stop")
    ratio = k.threshold("creatinine_rise_ratio")
    window = k.threshold("creatinine_rise_window_months")
    if egfr is not None and hard.crossed(egfr.value):
        used = ThresholdUse.of(hard)
        reason = CheckReason(kind, measurement=egfr, threshold=used, inputs=inputs)
        return fired(k, "renal-severe", [reason], [egfr.source], [Fact.of("egfr", egfr)], [used])
    if creatinine is None:
        return None
    earlier = [
        m
        for m in h.series("creatinine")[:-1]
        if m.at < creatinine.at and window.crossed_by_elapsed(m.at, creatinine.at)
    ]
    if not earlier:
        return None
    baseline = min(earlier, key=lambda m: m.value)
    if baseline.value <= 0 or not ratio.crossed_by_ratio(creatinine.value, baseline.value):
        return None
    reason = CheckReason(
        "creatinine-rise",
        measurement=creatinine,
        baseline=baseline,
        threshold=ThresholdUse.of(ratio),
    )
    return fired(
        k,
        "renal-severe",
        [reason],
        [baseline.source, creatinine.source],
        [Fact.of("creatinine_baseline", baseline), Fact.of("creatinine", creatinine)],
        [ThresholdUse.of(ratio), ThresholdUse.of(window)],
    )


def thrombosis(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    lists = k.decision
    concepts: list[str] = []
    refs: list[SourceRef] = []
    for concept in (*lists.thrombosis_any_status, *lists.thrombosis_active_only):
        any_status = concept in lists.thrombosis_any_status
        problems = [p for p in h.problems if p.concept == concept and (any_status or p.active)]
        if problems:
            concepts.append(concept)
            refs += [p.source for p in problems]
    cvc_recent = k.threshold("cvc_recent_days")
    catheters = [
        p
        for p in h.procedures
        if p.concept == "central-venous-catheter"
        and (
            p.status == "in-progress"
            or (p.at is not None and cvc_recent.crossed_by_elapsed(p.at, now))
        )
    ]
    if catheters and "central-venous-catheter" not in concepts:
        concepts.append("central-venous-catheter")
    refs += [p.source for p in catheters]
    recent = k.threshold("estrogen_recent_days")
    for agent in lists.thrombosis_agents:
        doses = [d for d in h.doses(agent) if recent.crossed_by_elapsed(d.at, now)]
        if doses:
            concepts.append(agent)
            refs += [d.source for d in doses]
    if not concepts:
        return None
    reasons = [CheckReason("risk-factor", concept=concept) for concept in concepts]
    return fired(k, "thrombosis", reasons, refs)


def hemolysis(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    groups = [r for r in h.coded_results if r.concept == "blood-group"]
    if not groups:
        return fired(k, "hemolysis", [CheckReason("blood-group-unknown")])
    latest = max(groups, key=lambda r: r.at)
    if latest.value == "O":
        return None
    return fired(
        k,
        "hemolysis",
        [CheckReason("blood-group", text=latest.value)],
        [latest.source],
        [Fact("blood_group", latest.value, None, latest.at, latest.source)],
    )


def cardiac_fluid(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    problems = h.active_problems("myocarditis") + h.active_problems("heart-failure")
    if not problems:
        return None
    reasons = [CheckReason("problem", text=text) for text in sorted({p.display for p in problems})]
    return fired(k, "cardiac-fluid", reasons, [p.source for p in problems])


def live_vaccine(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    """A live vaccine within the window: IVIG may blunt it. One given within
    ``live_vaccine_repeat_days`` before now (IVIG being offered) is to be repeated once the
    deferral interval after IVIG has passed [ACIP-timing]."""
    threshold = k.threshold("live_vaccine_months")
    repeat = k.threshold("live_vaccine_repeat_days")
    recent = _recent_live_vaccines(h, k, now)
    if not recent:
        return None
    reasons = [
        CheckReason(
            "vaccine-repeat" if repeat.crossed_by_elapsed(i.at, now) else "vaccine",
            text=i.vaccine,
            at=i.at,
        )
        for i in recent
        if i.at is not None
    ]
    used = [ThresholdUse.of(threshold)]
    if any(r.kind == "vaccine-repeat" for r in reasons):
        used += [ThresholdUse.of(repeat), ThresholdUse.of(k.threshold("vaccine_deferral_months"))]
    return fired(k, "live-vaccine", reasons, [i.source for i in recent], thresholds=used)


def _recent_live_vaccines(h: TherapyHistory, k: Knowledge, now: datetime) -> list[ImmunizationFact]:
    threshold = k.threshold("live_vaccine_months")
    return [
        i
        for i in h.immunizations
        if i.concept == "live-vaccine"
        and i.at is not None
        and i.at <= now
        and threshold.crossed_by_elapsed(i.at, now)
    ]


def live_vaccine_immunosuppressed(
    h: TherapyHistory, k: Knowledge, now: datetime
) -> SafetyCheckResult | None:
    """A recent live vaccine given while the child was immunosuppressed: on a high oral
    glucocorticoid dose for long enough, or on methotrexate [ACIP-immunocompetence]."""
    reasons: list[CheckReason] = []
    refs: list[SourceRef] = []
    used: set[str] = set()
    for vaccine in _recent_live_vaccines(h, k, now):
        if vaccine.at is None:
            continue
        steroid = _high_dose_steroid_at(h, k, vaccine.at)
        methotrexate = _methotrexate_at(h, k, vaccine.at)
        if steroid is None and methotrexate is None:
            continue
        agents = []
        if steroid is not None:
            agents.append("glucocorticoid-oral")
            refs.append(steroid.source)
            used |= {"immunosuppressive_steroid_days", steroid_threshold_name(k, steroid)}
        if methotrexate is not None:
            agents.append("methotrexate")
            refs.append(methotrexate.source)
            used.add("methotrexate_current_days")
        reasons.append(
            CheckReason(
                "vaccine-immunosuppressed",
                text=vaccine.vaccine,
                at=vaccine.at,
                concept="+".join(agents),  # the agents it was given on
            )
        )
        refs.append(vaccine.source)
    if not reasons:
        return None
    thresholds = [ThresholdUse.of(k.threshold(name)) for name in sorted(used)]
    return fired(k, "live-vaccine-immunosuppressed", reasons, refs, thresholds=thresholds)


def _high_dose_steroid_at(
    h: TherapyHistory, k: Knowledge, at: datetime
) -> GlucocorticoidPoint | None:
    """The oral glucocorticoid dose in force on ``at`` when it is immunosuppressive and has run
    (at high doses) for long enough by then; None otherwise or when it cannot be told (no dose
    known to be in force on that day)."""
    course = h.glucocorticoid
    if course is None:
        return None
    points = list(course.points)
    started = [i for i, p in enumerate(points) if p.start <= at]
    if not started:
        return None
    index = started[-1]
    if index == len(points) - 1 and course.current is None:
        return None  # the last dose has ended, and when is not known
    run_start = None
    for point in reversed(points[: index + 1]):
        if not _is_high_dose(k, point):
            break
        run_start = point.start
    days = k.threshold("immunosuppressive_steroid_days")
    if run_start is None or not days.crossed_by_elapsed(run_start, at):
        return None
    return points[index]


def _is_high_dose(k: Knowledge, point: GlucocorticoidPoint) -> bool:
    per_kg = k.threshold("immunosuppressive_steroid_mg_per_kg_day")
    daily = k.threshold("immunosuppressive_steroid_mg_day")
    return daily.crossed(point.daily_mg) or (
        point.mg_per_kg_day is not None and per_kg.crossed(point.mg_per_kg_day)
    )


def steroid_threshold_name(k: Knowledge, point: GlucocorticoidPoint) -> str:
    """Which of the two dose thresholds the dose crossed (the daily one first)."""
    daily = k.threshold("immunosuppressive_steroid_mg_day")
    if daily.crossed(point.daily_mg):
        return "immunosuppressive_steroid_mg_day"
    return "immunosuppressive_steroid_mg_per_kg_day"


def _methotrexate_at(h: TherapyHistory, k: Knowledge, at: datetime) -> DoseEvent | None:
    """A methotrexate dose within ``methotrexate_current_days`` up to ``at``: on it then."""
    window = k.threshold("methotrexate_current_days")
    doses = [
        d
        for d in h.doses("methotrexate")
        if d.status is not DoseStatus.ORDERED and d.at <= at and window.crossed_by_elapsed(d.at, at)
    ]
    return max(doses, key=lambda d: d.at, default=None)


def vaccine_deferral(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    used = ThresholdUse.of(k.threshold("vaccine_deferral_months"))
    return fired(k, "vaccine-deferral", [CheckReason("vaccine-deferral")], thresholds=[used])


def migraine(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    # a history of migraine counts, active or not (docs/clinical/safety.md: "a migraine Condition")
    problems = [p for p in h.problems if p.concept == "migraine"]
    if not problems:
        return None
    return fired(k, "migraine", [CheckReason("migraine")], [p.source for p in problems])


Check = Callable[[TherapyHistory, Knowledge, datetime], SafetyCheckResult | None]

# Order = order of the lines on the card: hard stops first is done by the caller.
CHECKS: tuple[Check, ...] = (
    anaphylaxis_to_ig,
    renal,
    iga_deficiency,
    thrombosis,
    cardiac_fluid,
    iga_unknown,
    hemolysis,
    live_vaccine,
    live_vaccine_immunosuppressed,
    migraine,
    ig_reaction_mild,
    vaccine_deferral,
)
RANK = {Effect.HARD_STOP: 0, Effect.WARNING: 1, Effect.NOTE: 2}


def run_checks(
    history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> tuple[SafetyCheckResult, ...]:
    """Every check that fired, hard stops first, then warnings, then notes."""
    results = [result for check in CHECKS if (result := check(history, knowledge, now))]
    return tuple(sorted(results, key=lambda r: RANK[r.effect]))
