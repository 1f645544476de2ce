"""The IVIG safety checks of safety.md, each returning a result or None.

Effects: a hard stop turns ``ivig-start`` critical and removes the draft order; a warning gets a
card of its own (``ivig-safety-<code>``); a note is a line in ``ivig-start``'s "Safety notes". A
check that lacks the data it needs says so (a note); it never assumes normal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cds_service.card_builder.units_display import quantity_text
from cds_service.history.model import Measurement, TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.findings import Effect, Fact, SafetyCheckResult, ThresholdUse
from cds_service.rules.timeutil import day, window_start

PRESENT_PROCEDURE_STATUSES = frozenset({"completed", "in-progress"})


def anaphylaxis_to_ig(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    severe = [a for a in h.allergies if a.concept == "immune-globulin" and a.severe]
    if not severe:
        return None
    detail = "; ".join(a.description for a in severe)
    return SafetyCheckResult(
        "anaphylaxis-to-ig", Effect.HARD_STOP, detail, tuple(a.source for a in severe)
    )


def ig_reaction_mild(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    mild = [a for a in h.allergies if a.concept == "immune-globulin" and not a.severe]
    if not mild or any(a.severe for a in h.allergies if a.concept == "immune-globulin"):
        return None
    return SafetyCheckResult(
        "ig-reaction-mild",
        Effect.NOTE,
        "; ".join(a.description for a in mild),
        tuple(a.source for a in mild),
    )


def iga_deficiency(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    problems = h.active_problems("iga-deficiency")
    if problems:
        return SafetyCheckResult(
            "iga-deficiency",
            Effect.WARNING,
            "IgA deficiency on the problem list",
            tuple(p.source for p in problems),
        )
    latest = h.latest("iga")
    if latest is None:
        return None
    threshold = k.threshold("iga_low_mg_dl")
    if latest.reference_low is not None:
        low = latest.value < latest.reference_low
        compared = f"below the lab's range (low {quantity_text(latest.reference_low, latest.unit)})"
        used: tuple[ThresholdUse, ...] = ()
    else:
        low = latest.value < threshold.value
        compared = f"< {threshold.value} {threshold.unit}, no lab range"
        used = (ThresholdUse.of(threshold),)
    if not low:
        return None
    return SafetyCheckResult(
        "iga-deficiency",
        Effect.WARNING,
        f"IgA {_value(latest)} on {day(latest.at)}, {compared}",
        (latest.source,),
        (Fact.of("iga", latest),),
        used,
    )


def iga_unknown(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    if h.series("iga") or h.active_problems("iga-deficiency") or h.ivig_courses:
        return None
    return SafetyCheckResult("iga-unknown", Effect.NOTE, "no IgA result")


def renal(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    """`renal-severe` (hard stop) replaces `renal` (warning); no data at all -> a note."""
    egfr, creatinine = h.latest("egfr"), h.latest("creatinine")
    problems = h.active_problems("renal-impairment")
    if egfr is None and creatinine is None and not problems:
        return SafetyCheckResult("renal-unknown", Effect.NOTE, "no creatinine or eGFR")
    severe = _renal_severe(h, k, egfr, creatinine)
    if severe is not None:
        return severe
    warning = k.threshold("egfr_renal_warning")
    reasons, refs, facts = [], [p.source for p in problems], []
    reasons += [f"{p.display} on the problem list" for p in problems]
    if egfr is not None and egfr.value < warning.value:
        reasons.append(f"eGFR {_value(egfr)} on {day(egfr.at)} (< {warning.value})")
        refs.append(egfr.source)
        facts.append(Fact.of("egfr", egfr))
    if (
        creatinine is not None
        and creatinine.reference_high is not None
        and creatinine.value > creatinine.reference_high
    ):
        reasons.append(
            f"creatinine {_value(creatinine)} on {day(creatinine.at)} above the "
            f"range for age (high {creatinine.reference_high})"
        )
        refs.append(creatinine.source)
        facts.append(Fact.of("creatinine", creatinine))
    if not reasons:
        return None
    return SafetyCheckResult(
        "renal",
        Effect.WARNING,
        "; ".join(reasons),
        tuple(refs),
        tuple(facts),
        (ThresholdUse.of(warning),),
    )


def _renal_severe(
    h: TherapyHistory, k: Knowledge, egfr: Measurement | None, creatinine: Measurement | None
) -> SafetyCheckResult | None:
    hard = k.threshold("egfr_renal_hard_stop")
    ratio = k.threshold("creatinine_rise_ratio")
    window = k.threshold("creatinine_rise_window_months")
    if egfr is not None and egfr.value < hard.value:
        return SafetyCheckResult(
            "renal-severe",
            Effect.HARD_STOP,
            f"eGFR {_value(egfr)} on {day(egfr.at)} (< {hard.value})",
            (egfr.source,),
            (Fact.of("egfr", egfr),),
            (ThresholdUse.of(hard),),
        )
    if creatinine is None:
        return None
    earliest = window_start(creatinine.at, window)
    earlier = [m for m in h.series("creatinine")[:-1] if earliest <= m.at < creatinine.at]
    if not earlier:
        return None
    baseline = min(earlier, key=lambda m: m.value)
    if baseline.value <= 0 or creatinine.value < ratio.value * baseline.value:
        return None
    return SafetyCheckResult(
        "renal-severe",
        Effect.HARD_STOP,
        f"creatinine rose from {_value(baseline)} ({day(baseline.at)}) to {_value(creatinine)} "
        f"({day(creatinine.at)}), >= {ratio.value} x within {window.value} months",
        (baseline.source, creatinine.source),
        (Fact.of("creatinine_baseline", baseline), Fact.of("creatinine", creatinine)),
        (ThresholdUse.of(ratio), ThresholdUse.of(window)),
    )


def thrombosis(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    reasons, refs = [], []
    for concept, label, any_status in (
        ("thrombosis", "prior thrombosis", True),
        ("thrombophilia", "thrombophilia", True),
        ("central-venous-catheter", "central venous catheter", False),
        ("immobility", "immobility", False),
    ):
        problems = [p for p in h.problems if p.concept == concept and (any_status or p.active)]
        if problems:
            reasons.append(label)
            refs += [p.source for p in problems]
    cvc_since = window_start(now, k.threshold("cvc_recent_days"))
    catheters = [
        p
        for p in h.procedures
        if p.concept == "central-venous-catheter"
        and (p.status == "in-progress" or (p.at is not None and p.at >= cvc_since))
    ]
    if catheters and "central venous catheter" not in reasons:
        reasons.append("central venous catheter")
    refs += [p.source for p in catheters]
    estrogen_since = window_start(now, k.threshold("estrogen_recent_days"))
    estrogen = [d for d in h.doses("estrogen") if d.at >= estrogen_since]
    if estrogen:
        reasons.append("estrogen-containing therapy")
        refs += [d.source for d in estrogen]
    if not reasons:
        return None
    return SafetyCheckResult("thrombosis", Effect.WARNING, ", ".join(reasons), tuple(refs))


def hemolysis(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    groups = [r for r in h.coded_results if r.concept == "blood-group"]
    if not groups:
        return SafetyCheckResult("hemolysis", Effect.NOTE, "blood group unknown: check ABO/RhD")
    latest = max(groups, key=lambda r: r.at)
    if latest.value == "O":
        return None
    return SafetyCheckResult(
        "hemolysis",
        Effect.NOTE,
        f"blood group {latest.value}",
        (latest.source,),
        (Fact("blood_group", latest.value, None, latest.at, latest.source),),
    )


def cardiac_fluid(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    problems = h.active_problems("myocarditis") + h.active_problems("heart-failure")
    if not problems:
        return None
    return SafetyCheckResult(
        "cardiac-fluid",
        Effect.WARNING,
        ", ".join(sorted({p.display for p in problems})),
        tuple(p.source for p in problems),
    )


def live_vaccine(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    threshold = k.threshold("live_vaccine_months")
    since = window_start(now, threshold)
    recent = [
        i
        for i in h.immunizations
        if i.concept == "live-vaccine" and i.at is not None and since <= i.at <= now
    ]
    if not recent:
        return None
    detail = ", ".join(f"{i.vaccine} on {day(i.at)}" for i in recent)
    return SafetyCheckResult(
        "live-vaccine",
        Effect.NOTE,
        detail,
        tuple(i.source for i in recent),
        thresholds=(ThresholdUse.of(threshold),),
    )


def vaccine_deferral(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    return SafetyCheckResult(
        "vaccine-deferral",
        Effect.NOTE,
        "after 2 g/kg IVIG",
        thresholds=(ThresholdUse.of(k.threshold("vaccine_deferral_months")),),
    )


def migraine(h: TherapyHistory, k: Knowledge, now: datetime) -> SafetyCheckResult | None:
    # a history of migraine counts, active or not (safety.md: "a migraine Condition")
    problems = [p for p in h.problems if p.concept == "migraine"]
    if not problems:
        return None
    return SafetyCheckResult("migraine", Effect.NOTE, "migraine", tuple(p.source for p in problems))


def _value(measurement: Measurement) -> str:
    return quantity_text(measurement.value, measurement.unit)


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
    migraine,
    ig_reaction_mild,
    vaccine_deferral,
)
