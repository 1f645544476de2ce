"""Hand-built TherapyHistory objects for rule tests (no FHIR: the rules' own input contract).

``seed_history()`` is the seed case of docs/clinical/decision-model.md: a 9-year-old girl, 26 kg
weighed 5 days
ago, JDM with persistent proximal weakness and dysphagia after 3 IV methylprednisolone pulses of
30 mg/kg, 4 weekly methotrexate doses and tapering prednisolone. Baseline labs are normal, blood
group O, organ screen done: only the clinical core of the case speaks. Variants use
``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from cds_service.card_builder.cards import indicator
from cds_service.card_builder.wording import template_values
from cds_service.history.model import (
    AllergyFact,
    CodedResult,
    DoseEvent,
    DoseStatus,
    GlucocorticoidCourse,
    GlucocorticoidPoint,
    ImmunizationFact,
    IvigCourse,
    MatchKind,
    Measurement,
    MethotrexateSummary,
    PatientFacts,
    Problem,
    ProcedureFact,
    SourceRef,
    TherapyHistory,
)
from cds_service.knowledge.loader import Knowledge
from cds_service.rules import evaluate_all
from cds_service.rules.context import ClinicalContext, build_context
from cds_service.rules.findings import Finding
from fhir_fixtures.clocks import AUCKLAND, SCENARIO_NOW

TZ = AUCKLAND
NOW = SCENARIO_NOW
UNITS = {
    "weight": "kg",
    "height": "cm",
    "cmas": "{score}",
    "mmt8": "{score}",
    "iga": "mg/dL",
    "creatinine": "umol/L",
    "egfr": "mL/min/{1.73_m2}",
    "ck": "U/L",
    "esr": "mm/h",
    "crp": "mg/L",
}


def ago(days: float = 0, weeks: float = 0) -> datetime:
    return NOW - timedelta(days=days, weeks=weeks)


def problem(
    concept: str, rid: str, onset: datetime, active: bool = True, display: str | None = None
) -> Problem:
    return Problem(
        concept=concept,
        display=display or concept,
        active=active,
        clinical_status="active" if active else "resolved",
        verification_status="confirmed",
        onset=onset,
        recorded=onset,
        abated=None,
        code=f"http://snomed.info/sct|{rid}",
        matched_by=MatchKind.CODE,
        source=SourceRef("Condition", rid),
    )


def measure(
    concept: str,
    value: str,
    at: datetime,
    rid: str,
    *,
    low: str | None = None,
    high: str | None = None,
    status: str = "final",
) -> Measurement:
    unit = UNITS.get(concept, "1")
    return Measurement(
        concept=concept,
        value=Decimal(value),
        unit=unit,
        at=at,
        status=status,
        reference_low=Decimal(low) if low else None,
        reference_high=Decimal(high) if high else None,
        original=f"{value} {unit}",
        source=SourceRef("Observation", rid),
    )


def dose(
    agent: str,
    at: datetime,
    rid: str,
    mg: str,
    route: str = "intravenous",
    rtype: str = "MedicationAdministration",
    daily: str | None = None,
) -> DoseEvent:
    return DoseEvent(
        agent=agent,
        at=at,
        route=route,
        amount_mg=Decimal(mg),
        dose_as_written=f"{mg} mg",
        daily_amount_mg=Decimal(daily) if daily else None,
        status=DoseStatus.GIVEN,
        matched_by=MatchKind.CODE,
        source=SourceRef(rtype, rid),
    )


def methotrexate(first: datetime, doses: int) -> MethotrexateSummary:
    events = tuple(
        dose("methotrexate", first + timedelta(weeks=i), f"mtx-{i + 1}", "15", route="subcutaneous")
        for i in range(doses)
    )
    return MethotrexateSummary(
        first_dose_at=first,
        doses_given=doses,
        doses_expected=0,
        weeks_on_treatment=Decimal((NOW - first).days) / 7,
        active=True,
        last_dose_at=events[-1].at,
        events=events,
    )


def glucocorticoid(
    *points: tuple[datetime, str], current: bool = True, raised: bool = False
) -> GlucocorticoidCourse:
    built = tuple(
        GlucocorticoidPoint(
            start=at,
            daily_mg=Decimal(mg),
            mg_per_kg_day=(Decimal(mg) / 26).quantize(Decimal("0.01")),
            weight=None,
            source=SourceRef("MedicationRequest", f"pred-{i + 1}"),
        )
        for i, (at, mg) in enumerate(points)
    )
    return GlucocorticoidCourse(
        started_at=built[0].start,
        start_mg_per_kg_day=built[0].mg_per_kg_day,
        points=built,
        current=built[-1] if current else None,
        trend="tapering",
        raised_after_taper=raised,
    )


def ivig_course(start: datetime, rid: str, total_g: str = "52") -> IvigCourse:
    infusions = (
        dose("ivig", start, f"{rid}-1", str(Decimal(total_g) * 500)),
        dose("ivig", start + timedelta(days=1), f"{rid}-2", str(Decimal(total_g) * 500)),
    )
    return IvigCourse(
        start=start,
        end=infusions[-1].at,
        infusions=infusions,
        total_g=Decimal(total_g),
        g_per_kg=Decimal(2),
        weight=None,
    )


def with_measurements(
    history: TherapyHistory, *items: Measurement, replace_concepts: bool = False
) -> TherapyHistory:
    series: dict[str, list[Measurement]] = {k: list(v) for k, v in history.measurements.items()}
    for item in items:
        if replace_concepts:
            series[item.concept] = []
    for item in items:
        series.setdefault(item.concept, []).append(item)
    frozen = {k: tuple(sorted(v, key=lambda m: m.at)) for k, v in series.items()}
    weights = frozen.get("weight", ())
    return replace(
        history,
        measurements=MappingProxyType(frozen),
        latest_weight=weights[-1] if weights else None,
    )


def without(history: TherapyHistory, *concepts: str) -> TherapyHistory:
    series = {k: v for k, v in history.measurements.items() if k not in concepts}
    return replace(
        history,
        measurements=MappingProxyType(series),
        latest_weight=series.get("weight", (None,))[-1],
    )


def with_problems(history: TherapyHistory, *problems: Problem) -> TherapyHistory:
    return replace(history, problems=history.problems + problems)


def seed_history(**changes: Any) -> TherapyHistory:
    pulses = tuple(
        dose("methylprednisolone-iv", datetime(2026, 1, 5 + i, 9, tzinfo=TZ), f"mp-{i + 1}", "780")
        for i in range(3)
    )
    mtx_first = datetime(2026, 2, 16, 9, tzinfo=TZ)  # 4 weekly doses: 16 Feb - 9 Mar
    history = TherapyHistory(
        patient=PatientFacts(
            patient_id="seed",
            birth_date=date(2016, 9, 1),
            sex="female",
            deceased=False,
            age_years=9,
            age_months=6,
            source=SourceRef("Patient", "seed"),
        ),
        now=NOW,
        problems=(
            problem(
                "jdm",
                "c-jdm",
                datetime(2025, 12, 20, tzinfo=TZ),
                display="Juvenile dermatomyositis",
            ),
            problem(
                "muscle-weakness",
                "c-weak",
                datetime(2025, 12, 20, tzinfo=TZ),
                display="Proximal muscle weakness",
            ),
            problem("dysphagia", "c-dys", datetime(2026, 2, 20, tzinfo=TZ), display="Dysphagia"),
        ),
        methylprednisolone_pulses=pulses,
        methotrexate=methotrexate(mtx_first, 4),
        glucocorticoid=glucocorticoid(
            (datetime(2026, 1, 8, tzinfo=TZ), "52"),
            (datetime(2026, 2, 8, tzinfo=TZ), "40"),
            (datetime(2026, 3, 1, tzinfo=TZ), "30"),
        ),
        coded_results=(
            CodedResult("blood-group", "O", "O", ago(60), SourceRef("Observation", "abo")),
        ),
        procedures=tuple(
            ProcedureFact(c, ago(60), "completed", SourceRef("Procedure", c))
            for c in ("ecg", "echocardiogram", "pft")
        ),
    )
    history = replace(history, dose_events=pulses + history.methotrexate.events)  # type: ignore
    history = with_measurements(
        history,
        measure("weight", "26", ago(5), "w-3"),
        measure("weight", "25.6", ago(40), "w-2"),
        measure("height", "132", ago(5), "h-1"),
        measure("cmas", "30", ago(5), "cmas-1"),
        measure("iga", "90", ago(60), "iga-1", low="40", high="230"),
        measure("creatinine", "40", ago(5), "cr-1", low="25", high="60"),
        measure("egfr", "110", ago(5), "egfr-1"),
        measure("ck", "900", ago(5), "ck-1"),
    )
    return replace(history, **changes)


__all__ = [
    "NOW",
    "AllergyFact",
    "ImmunizationFact",
    "ProcedureFact",
    "ago",
    "dose",
    "glucocorticoid",
    "ivig_course",
    "measure",
    "methotrexate",
    "problem",
    "seed_history",
    "with_measurements",
    "with_problems",
    "without",
]


# --- running the rules as the pipeline does --------------------------------------------------


def context_for(
    history: TherapyHistory, knowledge: Knowledge, gather_notes: tuple[str, ...] = ()
) -> ClinicalContext:
    return build_context(history, knowledge, NOW, gather_notes)


def findings_for(
    history: TherapyHistory, knowledge: Knowledge, gather_notes: tuple[str, ...] = ()
) -> tuple[Finding, ...]:
    """Every finding, as the pipeline computes them (scope gate included)."""
    return evaluate_all(context_for(history, knowledge, gather_notes), knowledge, NOW)


def run(rule: Any, history: TherapyHistory, knowledge: Knowledge) -> tuple[Finding, ...]:
    """One rule module's findings for ``history`` (no scope gate, as when called alone)."""
    findings: tuple[Finding, ...] = rule.evaluate(context_for(history, knowledge), knowledge, NOW)
    return findings


def words(finding: Finding, knowledge: Knowledge) -> dict[str, str]:
    """The values the card builder fills into the finding's templates."""
    return template_values(finding, knowledge)


def indicator_of(finding: Finding, knowledge: Knowledge) -> str:
    return str(indicator(finding, knowledge))


def jdm_since(history: TherapyHistory, onset: datetime) -> TherapyHistory:
    """The history with its JDM diagnosis dated `onset` (IVIG courses count from it)."""
    problems = tuple(
        replace(p, onset=onset, recorded=onset) if p.concept == "jdm" else p
        for p in history.problems
    )
    return replace(history, problems=problems)
