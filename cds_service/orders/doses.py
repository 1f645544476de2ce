"""``order-rituximab-dose``, ``order-ivmp-dose`` and ``order-steroid-dose``: a dose per infusion
or per day against the regimen (per m2 or per kg, and a cap)."""

from __future__ import annotations

from cds_service.dosing.figures import plain
from cds_service.knowledge.loader import Knowledge
from cds_service.orders.body import Body, dose_mg, shown_mg
from cds_service.orders.findings import Correction, OrderFinding
from cds_service.orders.read import OrderReading
from cds_service.orders.shared import (
    DAILY,
    arithmetic,
    bsa_facts,
    in_units,
    no_bsa_line,
    order_facts,
    unread,
    used,
    weight_needed,
)
from cds_service.rules.findings import Fact


def rituximab(order: OrderReading, body: Body, knowledge: Knowledge) -> list[OrderFinding]:
    policy, rules = knowledge.orders, knowledge.dosing.rituximab
    mass = dose_mg(order.dose, body.weight_kg, body.bsa_m2)
    cap = rules.cap_mg_per_infusion.value
    blocked = [] if body.rituximab is not None else ["order-rituximab-dose"]
    if mass.mg is None:
        found = [] if mass.needs else [unread("order-rituximab-dose", order, knowledge)]
        return found + weight_needed(order, body, blocked, knowledge)
    dose = body.rituximab
    over_bsa = dose is not None and policy.over(mass.mg, dose.uncapped_mg)
    if not (mass.mg > cap or over_bsa):
        return weight_needed(order, body, blocked, knowledge)
    expected_mg = dose.per_infusion_mg if dose is not None else cap
    far = mass.mg > policy.rituximab_critical_ratio.value * expected_mg
    adult = mass.mg == rules.adult_dose_mg.value
    if dose is not None:
        # the figure the escalate-after-ivig card shows, rounded by cards/dosing.json
        rounded = dose.per_infusion_mg_rounded
        expected = (
            f"{plain(rounded)} mg = {plain(dose.mg_per_m2)} mg/m2 x "
            f"{plain(dose.bsa_m2)} m2, max {plain(cap)} mg"
        )
        correction = Correction(rounded, "mg")
    else:
        expected = f"at most {plain(cap)} mg"
        correction = None
    finding = OrderFinding(
        "order-rituximab-dose",
        case="far" if far else "default",
        values={
            "ordered": shown_mg(mass.mg),
            "expected": expected,
            "finding": arithmetic(order, shown_mg(mass.mg), expected, knowledge)
            + no_bsa_line(body, f"{plain(cap)} mg", knowledge),
        },
        facts=order_facts(order, mass) + bsa_facts(body),
        thresholds=(
            used(rules.mg_per_m2_per_infusion, "gt"),
            used(rules.cap_mg_per_infusion, "gt"),
            used(policy.rituximab_critical_ratio, "gt"),
            used(policy.tolerance, "gt"),
        ),
        resources=body.resources,
        correction=correction,
        note_keys=("adult",) if adult else (),
    )
    return [finding, *weight_needed(order, body, blocked, knowledge)]


def daily_glucocorticoid(
    order: OrderReading, body: Body, knowledge: Knowledge, topic: str
) -> list[OrderFinding]:
    policy = knowledge.orders
    if topic == "order-ivmp-dose":
        per_kg, cap = policy.ivmp_mg_per_kg_day, policy.ivmp_cap_mg_per_day
    else:
        per_kg, cap = policy.prednisolone_mg_per_kg_day, policy.prednisolone_cap_mg_per_day
    drug = (order.ingredient or "prednisolone").capitalize()
    mass = dose_mg(order.dose, body.weight_kg, None)
    blocked = [] if body.weight_kg is not None else [topic]
    if mass.mg is None:
        found = [] if mass.needs else [unread(topic, order, knowledge, drug=drug)]
        return found + weight_needed(order, body, blocked, knowledge)
    daily = mass.mg if order.dose and order.dose.per_day else mass.mg * order.doses_per_day
    target = per_kg.value * body.weight_kg if body.weight_kg is not None else None
    over = daily > cap.value or (target is not None and policy.over(daily, target))
    if not over:
        return weight_needed(order, body, blocked, knowledge)
    if target is not None and body.weight_kg is not None:
        allowed = min(target, cap.value)
        expected = (
            f"{shown_mg(allowed)} a day = {plain(per_kg.value)} mg/kg x "
            f"{plain(body.weight_kg)} kg, max {plain(cap.value)} mg"
        )
        units = in_units(order, allowed)
        correction = Correction(units[0], units[1], DAILY) if units else None
    else:
        expected, correction = f"at most {plain(cap.value)} mg a day", None
    values = {
        "ordered": shown_mg(daily),
        "expected": expected,
        "finding": arithmetic(order, f"{shown_mg(daily)} a day", expected, knowledge),
    }
    if topic == "order-steroid-dose":
        values["drug"] = drug
    finding = OrderFinding(
        topic,
        values=values,
        facts=(*order_facts(order, mass), Fact("daily_dose_mg", plain(daily), "mg")),
        thresholds=(used(per_kg, "gt"), used(cap, "gt"), used(policy.tolerance, "gt")),
        resources=body.resources,
        correction=correction,
    )
    return [finding, *weight_needed(order, body, blocked, knowledge)]
