"""IVIG as the next step (decision-model.md section 3), and ``weight-needed`` without a weight.

``ivig-start`` fires when the disease is to be escalated (see :mod:`refractory`), no IVIG was given
within the recency window, and IVIG is not already failing (then ``escalate-after-ivig`` fires
instead, never both). Indicator: critical with a red flag or a hard stop, else warning. The dose
needs a usable weight; without one the card gives the regimen in g/kg only and ``weight-needed``
says what is wrong with the weight on record.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.dosing import IvigDose, WeightAssessment
from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules import refractory, safety
from cds_service.rules.findings import (
    Effect,
    Fact,
    Finding,
    Indicator,
    SafetyCheckResult,
    unique_refs,
)
from cds_service.rules.ivig_dose import course_dose

RULE_ID = "ivig_start"


def evaluate(history: TherapyHistory, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    disease = refractory.assess(history, knowledge, now)
    status = refractory.ivig_status(history, knowledge, now, disease.active)
    if not disease.escalate or status.recent or status.failing:
        return ()
    checks = safety.run_checks(history, knowledge, now)
    codes = {check.code for check in checks if check.effect is not Effect.NOTE}
    hard_stops = tuple(c for c in checks if c.effect is Effect.HARD_STOP)
    weight, dose = course_dose(history, knowledge, now, codes)
    indicator = Indicator.CRITICAL if disease.red_flags or hard_stops else Indicator.WARNING
    checked_facts, checked_line = safety.checked_values(history)
    facts = list(disease.facts) + list(checked_facts)
    if weight.weight is not None:
        facts.insert(0, Fact.of("weight_kg", weight.weight))
    variant = "hardStop" if hard_stops else ("dose" if dose is not None else "noDose")
    texts = _texts(disease, hard_stops, dose, checked_line)
    suggest = ("ivig-baseline",) if hard_stops or dose is None else ("ivig-draft", "ivig-baseline")
    start = Finding(
        topic="ivig-start",
        indicator=indicator,
        rule_id=RULE_ID,
        resources=unique_refs(
            disease.resources + status.resources + tuple(m.source for m in weight.measurements)
        ),
        facts=tuple(facts),
        thresholds=disease.thresholds + status.thresholds,
        dose=dose,
        dose_evidence=dose.evidence() if dose is not None else None,
        safety_checks=checks,
        texts=texts,
        summary_variant=variant,
        suggest=suggest,
    )
    if weight.usable:
        return (start,)
    return (start, _weight_needed(weight))


def _texts(
    disease: refractory.DiseaseAssessment,
    hard_stops: tuple[SafetyCheckResult, ...],
    dose: IvigDose | None,
    checked_line: str,
) -> dict[str, str]:
    texts = {
        "escalate_reason": "; ".join(disease.reasons),
        "flag_suffix": " - red flag" if disease.red_flags else "",
        "hard_stop": _short(hard_stops[0].detail) if hard_stops else "",
        "checked_values": checked_line,
    }
    if dose is not None:
        evidence = dose.evidence()
        texts |= {
            "course_total_g": str(evidence["courseTotalG"]),
            "per_day_g": str(evidence["perDayG"]),
            "days": str(dose.days),
        }
    return texts


def _weight_needed(weight: WeightAssessment) -> Finding:
    facts = tuple(Fact.of("weight_kg", m) for m in weight.measurements)
    problem = {
        "missing": "no weight on record",
        "stale": f"newest weight is {weight.age_days} days old",
        "implausible": "newest weight is implausible",
        "changed": "weight changed sharply - confirm it",
        "future": "newest weight is dated in the future",
    }.get(str(weight.status), "no usable weight")
    return Finding(
        topic="weight-needed",
        indicator=Indicator.WARNING,
        rule_id=RULE_ID,
        resources=unique_refs(m.source for m in weight.measurements),
        facts=facts,
        texts={"weight_problem": problem, "weight_detail": weight.reason},
    )


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:39].rstrip() + "…"
