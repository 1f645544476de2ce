"""``order-ivig-dose``, ``order-ivig-interval`` and ``order-ivig-safety``: the order held to the
``ivig-start`` course (``context.ivig_dose``, one arithmetic), 4 weeks apart, and the safety
checks of docs/clinical/safety.md."""

from __future__ import annotations

from datetime import datetime

from cds_service.card_builder.markdown import md_escape
from cds_service.card_builder.safety_text import check_detail
from cds_service.dosing.figures import plain
from cds_service.knowledge.dosing_policy import DosingPolicy
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.texts import fill
from cds_service.orders.body import Body, dose_mg, shown_g
from cds_service.orders.findings import Correction, OrderFinding
from cds_service.orders.read import OrderReading
from cds_service.orders.shared import (
    DAILY,
    THOUSAND,
    arithmetic,
    order_facts,
    unread,
    used,
    weight_needed,
)
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Effect, Fact, ThresholdUse


def ivig(
    order: OrderReading,
    context: ClinicalContext,
    body: Body,
    knowledge: Knowledge,
    now: datetime,
) -> list[OrderFinding]:
    findings = _ivig_dose(order, context, knowledge)
    findings += _ivig_interval(order, context, knowledge, now)
    findings += _ivig_safety(context, knowledge)
    blocked = ["order-ivig-dose"] if context.ivig_dose is None else []
    return findings + weight_needed(order, body, blocked, knowledge)


def _ivig_dose(
    order: OrderReading, context: ClinicalContext, knowledge: Knowledge
) -> list[OrderFinding]:
    dose, policy = context.ivig_dose, knowledge.orders
    if dose is None:
        return []
    mass = dose_mg(order.dose, dose.dosing_weight_kg, None)
    values = {
        "expected_course_g": plain(dose.course_total_g_rounded),
        "expected_per_day_g": plain(dose.per_day_g_rounded),
        "days": str(dose.days),
        "ordered": "",
        "ordered_per_day": "",
        "finding": "",
    }
    thresholds = (
        ThresholdUse("ivig.gPerKgPerCourse", dose.g_per_kg, "g/kg", "gt", _key(dose.policy)),
        used(policy.ivig_max_g_per_kg_day, "gt"),
        used(policy.ivig_under_fraction, "lt"),
        used(policy.tolerance, "gt"),
    )
    resources = dose.resources
    if mass.mg is None:
        reading = unread("order-ivig-dose", order, knowledge)
        return [
            OrderFinding(
                "order-ivig-dose",
                case="unread",
                variant="unread",
                values=values | {"finding": reading.values["finding"]},
                facts=reading.facts,
                thresholds=thresholds,
                resources=resources,
            )
        ]
    per_day_mg = mass.mg if order.dose and order.dose.per_day else mass.mg * order.doses_per_day
    per_day_g = per_day_mg / THOUSAND
    course_limit_g = dose.course_total_g
    per_day_limit_g = policy.ivig_max_g_per_kg_day.value * dose.dosing_weight_kg
    days = order.days
    expected = Correction(
        dose.per_day_g_rounded, "g", DAILY | {"count": dose.days}
    )  # the ivig-start course, figure for figure
    facts = (
        *order_facts(order, mass),
        Fact("ordered_per_day_g", plain(per_day_g), "g"),
        Fact("expected_course_g", plain(dose.course_total_g_rounded), "g"),
        Fact("expected_per_day_g", plain(dose.per_day_g_rounded), "g"),
        Fact("expected_days", str(dose.days), "d"),
        Fact("dosing_weight_kg", plain(dose.dosing_weight_kg), "kg"),
    )
    ordered_per_day = f"{shown_g(per_day_mg)}/day"
    values |= {"ordered_per_day": ordered_per_day}
    if days is None:
        facts += (Fact("ordered_days", "not stated"),)
        over_day = policy.over(per_day_g, per_day_limit_g)
        case = "perDay" if over_day else "noDays"
        values |= {"ordered": ordered_per_day}
        return [
            OrderFinding(
                "order-ivig-dose",
                case=case,
                variant=case,
                values=values,
                facts=facts,
                thresholds=thresholds,
                resources=resources,
                correction=expected if over_day else None,
            )
        ]
    course_g = per_day_g * days
    facts += (
        Fact("ordered_days", str(days), "d"),
        Fact("ordered_course_g", plain(course_g), "g"),
    )
    ordered_course = f"{shown_g(course_g * THOUSAND)} ({ordered_per_day} x {days} days)"
    values |= {
        "ordered": ordered_course,
        "finding": arithmetic(order, ordered_course, f"{values['expected_course_g']} g", knowledge),
    }
    if policy.over(course_g, course_limit_g):
        case = "over"
    elif policy.over(per_day_g, per_day_limit_g):
        case = "perDay"
    elif course_g < policy.ivig_under_fraction.value * course_limit_g:
        case = "under"
    else:
        return []
    return [
        OrderFinding(
            "order-ivig-dose",
            case=case,
            variant=case,
            values=values,
            facts=facts,
            thresholds=thresholds,
            resources=resources,
            correction=None if case == "under" else expected,
        )
    ]


def _ivig_interval(
    order: OrderReading, context: ClinicalContext, knowledge: Knowledge, now: datetime
) -> list[OrderFinding]:
    rule = knowledge.orders.ivig_min_interval_days
    infusions = [
        (course, infusion)
        for course in context.ivig.courses
        for infusion in course.infusions
        if infusion.at <= now
    ]
    if not infusions:
        return []
    course, last = max(infusions, key=lambda pair: pair[1].at)
    start = order.start or now
    days_since = (start.date() - last.at.date()).days
    if days_since < 0 or days_since >= rule.value:
        return []
    total = course.total_g
    last_dose = (
        f"{plain(total)} g"
        if total is not None
        else knowledge.texts.phrase("order.lastDose.unknown")
    )
    return [
        OrderFinding(
            "order-ivig-interval",
            values={
                "days_since": str(days_since),
                "last_date": last.at.date().isoformat(),
                "last_dose": last_dose,
            },
            facts=(
                Fact("last_ivig", last_dose, None, last.at, last.source),
                Fact("days_since_last_ivig", str(days_since), "d"),
            ),
            thresholds=(used(rule, "lt"),),
            resources=tuple(i.source for i in course.infusions),
        )
    ]


def _ivig_safety(context: ClinicalContext, knowledge: Knowledge) -> list[OrderFinding]:
    texts = knowledge.texts
    hard = [c for c in context.safety_checks if c.effect is Effect.HARD_STOP]
    warnings = [c for c in context.safety_checks if c.effect is Effect.WARNING]
    if not hard and not warnings:
        return []
    checks = tuple(hard + warnings)
    lines = []
    for check in checks:
        text = texts.safety_checks[check.code]
        prefix = "**HARD STOP** " if check.effect is Effect.HARD_STOP else "**Warning** "
        filled = fill(text.text, {"detail": md_escape(check_detail(check, texts))})
        lines.append(f"- {prefix}{filled} [{', '.join(text.sources)}]")
    case = "hardStop" if hard else "warning"
    reasons = "; ".join(check_detail(c, texts) for c in (hard or warnings))
    return [
        OrderFinding(
            "order-ivig-safety",
            case=case,
            variant=case,
            values={"reasons": reasons, "finding": "\n".join(lines)},
            facts=tuple(f for c in checks for f in c.facts),
            thresholds=tuple(t for c in checks for t in c.thresholds),
            resources=tuple(r for c in checks for r in c.resources),
            safety_checks=checks,
        )
    ]


def _key(policy: DosingPolicy) -> str:
    return policy.ivig.g_per_kg_per_course.sources[0]
