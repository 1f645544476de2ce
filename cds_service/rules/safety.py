"""IVIG safety (safety.md): run every check; warnings become ``ivig-safety-*`` findings.

Checks run when IVIG is due (``ivig-start`` fires) or the patient is on IVIG (an infusion within
the recency window): that is when a product, rate or split can still be changed. Hard stops and
notes change the ``ivig-start`` card instead of getting cards of their own.
"""

from __future__ import annotations

from datetime import datetime

from cds_service.card_builder.units_display import quantity_text
from cds_service.dosing import IvigDose
from cds_service.history.model import TherapyHistory
from cds_service.knowledge.loader import Knowledge
from cds_service.rules import refractory
from cds_service.rules.findings import Effect, Fact, Finding, Indicator, SafetyCheckResult
from cds_service.rules.ivig_dose import course_dose
from cds_service.rules.safety_checks import CHECKS
from cds_service.rules.timeutil import day

RULE_ID = "safety"

WARNING_TOPICS: dict[str, str] = {
    "iga-deficiency": "ivig-safety-iga-deficiency",
    "renal": "ivig-safety-renal",
    "thrombosis": "ivig-safety-thrombosis",
    "cardiac-fluid": "ivig-safety-cardiac-fluid",
}
TEXT_KEYS: dict[str, str] = {
    "iga-deficiency": "iga_finding",
    "renal": "renal_finding",
    "thrombosis": "thrombosis_finding",
    "cardiac-fluid": "cardiac_finding",
}


def run_checks(
    history: TherapyHistory, knowledge: Knowledge, now: datetime
) -> tuple[SafetyCheckResult, ...]:
    """Every check that fired, hard stops first, then warnings, then notes."""
    fired = [result for check in CHECKS if (result := check(history, knowledge, now)) is not None]
    rank = {Effect.HARD_STOP: 0, Effect.WARNING: 1, Effect.NOTE: 2}
    return tuple(sorted(fired, key=lambda r: rank[r.effect]))


CHECKED_MEASUREMENTS = (("egfr", "eGFR"), ("creatinine", "creatinine"), ("iga", "IgA"))


def checked_values(history: TherapyHistory) -> tuple[tuple[Fact, ...], str]:
    """The latest values the checks read, fired or not, as facts and one line for the card.

    A clinician (and an auditor) sees which results the checks were run on and how old they are,
    not only the checks that fired.
    """
    facts: list[Fact] = []
    shown: list[str] = []
    for concept, label in CHECKED_MEASUREMENTS:
        latest = history.latest(concept)
        if latest is None:
            shown.append(f"{label} none")
            continue
        facts.append(Fact.of(concept, latest))
        shown.append(f"{label} {quantity_text(latest.value, latest.unit)} ({day(latest.at)})")
    groups = sorted(
        (r for r in history.coded_results if r.concept == "blood-group"), key=lambda r: r.at
    )
    if groups:
        group = groups[-1]
        facts.append(Fact("blood_group", group.value, None, group.at, group.source))
        shown.append(f"blood group {group.value} ({day(group.at)})")
    else:
        shown.append("blood group none")
    return tuple(facts), "Results the checks read: " + "; ".join(shown) + "."


def ivig_in_play(history: TherapyHistory, knowledge: Knowledge, now: datetime) -> bool:
    """IVIG is due now or being given: the moment the checks can change what is done."""
    disease = refractory.assess(history, knowledge, now)
    status = refractory.ivig_status(history, knowledge, now, disease.active)
    starting = disease.escalate and not status.recent and not status.failing
    return starting or status.recent


def evaluate(history: TherapyHistory, knowledge: Knowledge, now: datetime) -> tuple[Finding, ...]:
    if not ivig_in_play(history, knowledge, now):
        return ()
    findings = []
    checks = run_checks(history, knowledge, now)
    risks = {check.code for check in checks if check.effect is not Effect.NOTE}
    _, dose = course_dose(history, knowledge, now, risks)
    for result in checks:
        topic = WARNING_TOPICS.get(result.code)
        if result.effect is not Effect.WARNING or topic is None:
            continue
        texts = {
            TEXT_KEYS[result.code]: result.detail,
            "fluid_volume": _fluid(dose),
        }
        findings.append(
            Finding(
                topic=topic,
                indicator=Indicator.WARNING,
                rule_id=RULE_ID,
                resources=result.resources,
                facts=result.facts,
                thresholds=result.thresholds,
                safety_checks=(result,),
                texts=texts,
            )
        )
    return tuple(findings)


def _fluid(dose: IvigDose | None) -> str:
    """The course volume as the ivig-start card states it (cap applied), when there is a dose."""
    if dose is None:
        return " (no current weight: volume not calculated)"
    volume = dose.evidence()["volumeMl"]
    return f": {volume} mL for this course ({dose.evidence()['courseTotalG']} g)"
