"""``order-mtx-frequency`` and ``order-mtx-dose`` (docs/clinical/order-checks.md): methotrexate
for JDM is given ONCE WEEKLY, 15-20 mg/m2, at most 40 mg a week."""

from __future__ import annotations

from decimal import Decimal

from cds_service.card_builder.markdown import md_escape
from cds_service.dosing.figures import plain
from cds_service.knowledge.loader import Knowledge
from cds_service.orders.body import Body, dose_mg, shown_mg
from cds_service.orders.findings import OrderFinding
from cds_service.orders.read import OrderReading
from cds_service.orders.schedule import schedule_words
from cds_service.orders.shared import (
    WEEKLY,
    arithmetic,
    bsa_facts,
    correction,
    in_units,
    no_bsa_line,
    order_facts,
    unread,
    used,
    weight_needed,
)
from cds_service.rules.findings import Fact


def methotrexate(order: OrderReading, body: Body, knowledge: Knowledge) -> list[OrderFinding]:
    policy, texts = knowledge.orders, knowledge.texts
    mass = dose_mg(order.dose, body.weight_kg, body.bsa_m2)
    per_week = order.per_week
    cap = policy.methotrexate_cap_mg_per_week.value
    findings: list[OrderFinding] = []
    blocked: list[str] = []
    ceiling = _mtx_ceiling(body, knowledge)  # 20 mg/m2 x BSA, None without a BSA
    # a dose a suggestion may keep: within the regimen itself (the tolerance only spares a
    # correct order a card; a suggestion never goes above 20 mg/m2 or the cap)
    in_range = mass.mg is not None and mass.mg <= cap
    if in_range and mass.mg is not None and ceiling is not None:
        in_range = mass.mg <= ceiling
    # an unreadable dose is not replaced: the card says it could not be read
    dose_unread = mass.mg is None
    corrected_dose = None if in_range or dose_unread else _mtx_dose(order, body, knowledge)
    frequency_rule = used(policy.methotrexate_max_per_week, "gt")
    once_weekly = texts.phrase("methotrexate.onceWeekly")  # the patient view's card says it too
    if per_week is None:
        findings.append(
            OrderFinding(
                "order-mtx-frequency",
                case="missing",
                variant="missing",
                values={
                    "schedule_upper": "",
                    "weekly_total": "",
                    "finding": "",
                    "once_weekly": once_weekly,
                },
                facts=order_facts(order, mass),
                thresholds=(frequency_rule,),
                correction=correction(WEEKLY, corrected_dose, in_range),
            )
        )
    elif per_week > policy.methotrexate_max_per_week.value:
        schedule = schedule_words(order.timing, texts)
        weekly = mass.mg * per_week if mass.mg is not None else None
        finding = (
            texts.phrase(
                "order.asOrdered",
                dose=md_escape(order.dose.as_written) if order.dose else "",
                schedule=schedule,
                total=f"{shown_mg(weekly)} a week",
            )
            if weekly is not None
            else ""
        )
        findings.append(
            OrderFinding(
                "order-mtx-frequency",
                variant="default" if weekly is not None else "noMass",
                values={
                    "schedule_upper": schedule.upper(),
                    "weekly_total": shown_mg(weekly) if weekly is not None else "",
                    "finding": finding,
                    "once_weekly": once_weekly,
                },
                facts=order_facts(order, mass)
                + ((Fact("weekly_total_mg", plain(weekly), "mg"),) if weekly is not None else ()),
                thresholds=(frequency_rule,),
                correction=correction(WEEKLY, corrected_dose, in_range),
                delete=True,
            )
        )
    # the weekly dose: one administration, counted once a week at most
    if mass.mg is None:
        if mass.needs is not None:
            blocked.append("order-mtx-dose")
        else:
            findings.append(unread("order-mtx-dose", order, knowledge))
    else:
        weekly_dose = mass.mg * min(per_week, Decimal(1)) if per_week is not None else mass.mg
        over_cap = weekly_dose > cap
        over_bsa = ceiling is not None and policy.over(weekly_dose, ceiling)
        if ceiling is None:
            blocked.append("order-mtx-dose")
        if over_cap or over_bsa:
            expected = _mtx_expected(body, knowledge)
            findings.append(
                OrderFinding(
                    "order-mtx-dose",
                    values={
                        "ordered": shown_mg(weekly_dose),
                        "expected": expected,
                        # beside a frequency error the order's own total is on that card
                        "finding": (
                            arithmetic(
                                order, f"{shown_mg(weekly_dose)} a week", expected, knowledge
                            )
                            if per_week is None or per_week <= 1
                            else knowledge.texts.phrase(
                                "order.expected", arithmetic=md_escape(expected)
                            )
                        )
                        + no_bsa_line(body, f"{plain(cap)} mg", knowledge),
                    },
                    facts=(
                        *order_facts(order, mass),
                        Fact("weekly_dose_mg", plain(weekly_dose), "mg"),
                        *bsa_facts(body),
                    ),
                    thresholds=(
                        used(policy.methotrexate_max_mg_per_m2_week, "gt"),
                        used(policy.methotrexate_cap_mg_per_week, "gt"),
                        used(policy.tolerance, "gt"),
                    ),
                    resources=body.resources,
                    correction=correction(None, corrected_dose, False),
                )
            )
    return findings + weight_needed(order, body, blocked, knowledge)


def _mtx_ceiling(body: Body, knowledge: Knowledge) -> Decimal | None:
    if body.bsa_m2 is None:
        return None
    return knowledge.orders.methotrexate_max_mg_per_m2_week.value * body.bsa_m2


def _mtx_expected(body: Body, knowledge: Knowledge) -> str:
    policy = knowledge.orders
    cap = policy.methotrexate_cap_mg_per_week.value
    if body.bsa_m2 is None:
        return f"at most {plain(cap)} mg a week"
    low = policy.methotrexate_mg_per_m2_week.value * body.bsa_m2
    high = min(policy.methotrexate_max_mg_per_m2_week.value * body.bsa_m2, cap)
    return (
        f"{shown_mg(low).removesuffix(' mg')}-{shown_mg(high)} a week for {plain(body.bsa_m2)} m2"
    )


def _mtx_dose(order: OrderReading, body: Body, knowledge: Knowledge) -> tuple[Decimal, str] | None:
    """15 mg/m2 (at most the cap), rounded down to whole tablets of the strength ordered."""
    if body.bsa_m2 is None:
        return None
    policy = knowledge.orders
    target = min(
        policy.methotrexate_mg_per_m2_week.value * body.bsa_m2,
        policy.methotrexate_cap_mg_per_week.value,
    )
    return in_units(order, target)
