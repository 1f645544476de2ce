"""The order checks of docs/clinical/order-checks.md: one draft order against the record.

Each check returns findings (none for a correct order). Numbers come from
``cards/order-checks.json`` (``knowledge.orders``) and, for the IVIG course and rituximab, from
``cards/dosing.json`` through the same functions the ``patient-view`` cards use: the IVIG course
an order is held to is ``context.ivig_dose`` (:func:`cds_service.dosing.ivig_course_dose`), so an
order and the ``ivig-start`` card can never disagree about the dose.

A dose within the tolerance (10 %) of its target counts as the target; a cap (40 mg, 1 g, 60 mg)
is a hard limit: exactly at it is correct.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cds_service.card_builder.markdown import md_escape
from cds_service.card_builder.safety_text import check_detail
from cds_service.dosing.figures import plain
from cds_service.history.dosage import COUNT_UNITS
from cds_service.history.model import SourceRef
from cds_service.knowledge.dosing_policy import DosingPolicy, SourcedValue
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.texts import fill
from cds_service.orders.body import Body, DoseMass, dose_mg, floor_to, shown_g, shown_mg
from cds_service.orders.findings import Correction, OrderFinding
from cds_service.orders.read import OrderReading
from cds_service.orders.schedule import schedule_words
from cds_service.rules.context import ClinicalContext
from cds_service.rules.findings import Effect, Fact, ThresholdUse

WEEKLY = {"frequency": 1, "period": 1, "periodUnit": "wk"}
DAILY = {"frequency": 1, "period": 1, "periodUnit": "d"}
THOUSAND = Decimal(1000)


def check_order(
    order: OrderReading, context: ClinicalContext, body: Body, knowledge: Knowledge, now: datetime
) -> list[OrderFinding]:
    """Every finding about one order (none for a correct order)."""
    if order.agent == "methotrexate":
        return methotrexate(order, body, knowledge)
    if order.agent == "ivig":
        return ivig(order, context, body, knowledge, now)
    if order.agent == "rituximab":
        return rituximab(order, body, knowledge)
    if order.agent == "methylprednisolone-iv":
        return daily_glucocorticoid(order, body, knowledge, "order-ivmp-dose")
    return daily_glucocorticoid(order, body, knowledge, "order-steroid-dose")


# --- methotrexate -----------------------------------------------------------------------------


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
    corrected_dose = None if in_range else _mtx_dose(order, body, knowledge)
    frequency_rule = _used(policy.methotrexate_max_per_week, "gt")
    if per_week is None:
        findings.append(
            OrderFinding(
                "order-mtx-frequency",
                case="missing",
                variant="missing",
                values={"schedule_upper": "", "weekly_total": "", "finding": ""},
                facts=_order_facts(order, mass),
                thresholds=(frequency_rule,),
                correction=_correction(WEEKLY, corrected_dose, in_range),
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
                },
                facts=_order_facts(order, mass)
                + ((Fact("weekly_total_mg", plain(weekly), "mg"),) if weekly is not None else ()),
                thresholds=(frequency_rule,),
                correction=_correction(WEEKLY, corrected_dose, in_range),
                delete=True,
            )
        )
    # the weekly dose: one administration, counted once a week at most
    if mass.mg is None:
        if mass.needs is not None:
            blocked.append("order-mtx-dose")
        else:
            findings.append(_unread("order-mtx-dose", order, knowledge))
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
                            _arithmetic(
                                order, f"{shown_mg(weekly_dose)} a week", expected, knowledge
                            )
                            if per_week is None or per_week <= 1
                            else knowledge.texts.phrase(
                                "order.expected", arithmetic=md_escape(expected)
                            )
                        )
                        + _no_bsa_line(body, f"{plain(cap)} mg", knowledge),
                    },
                    facts=(
                        *_order_facts(order, mass),
                        Fact("weekly_dose_mg", plain(weekly_dose), "mg"),
                        *_bsa_facts(body),
                    ),
                    thresholds=(
                        _used(policy.methotrexate_max_mg_per_m2_week, "gt"),
                        _used(policy.methotrexate_cap_mg_per_week, "gt"),
                        _used(policy.tolerance, "gt"),
                    ),
                    resources=body.resources,
                    correction=_correction(None, corrected_dose, False),
                )
            )
    return findings + _weight_needed(order, body, blocked, knowledge)


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
    return _in_units(order, target)


# --- IVIG ---------------------------------------------------------------------------------------


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
    return findings + _weight_needed(order, body, blocked, knowledge)


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
        _used(policy.ivig_max_g_per_kg_day, "gt"),
        _used(policy.ivig_under_fraction, "lt"),
        _used(policy.tolerance, "gt"),
    )
    resources = dose.resources
    if mass.mg is None:
        reading = _unread("order-ivig-dose", order, knowledge)
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
        *_order_facts(order, mass),
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
        "finding": _arithmetic(
            order, ordered_course, f"{values['expected_course_g']} g", knowledge
        ),
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
            thresholds=(_used(rule, "lt"),),
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


# --- rituximab ----------------------------------------------------------------------------------


def rituximab(order: OrderReading, body: Body, knowledge: Knowledge) -> list[OrderFinding]:
    policy, rules = knowledge.orders, knowledge.dosing.rituximab
    mass = dose_mg(order.dose, body.weight_kg, body.bsa_m2)
    cap = rules.cap_mg_per_infusion.value
    blocked = [] if body.rituximab is not None else ["order-rituximab-dose"]
    if mass.mg is None:
        found = [] if mass.needs else [_unread("order-rituximab-dose", order, knowledge)]
        return found + _weight_needed(order, body, blocked, knowledge)
    dose = body.rituximab
    over_bsa = dose is not None and policy.over(mass.mg, dose.uncapped_mg)
    if not (mass.mg > cap or over_bsa):
        return _weight_needed(order, body, blocked, knowledge)
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
            "finding": _arithmetic(order, shown_mg(mass.mg), expected, knowledge)
            + _no_bsa_line(body, f"{plain(cap)} mg", knowledge),
        },
        facts=_order_facts(order, mass) + _bsa_facts(body),
        thresholds=(
            _used(rules.mg_per_m2_per_infusion, "gt"),
            _used(rules.cap_mg_per_infusion, "gt"),
            _used(policy.rituximab_critical_ratio, "gt"),
            _used(policy.tolerance, "gt"),
        ),
        resources=body.resources,
        correction=correction,
        note_keys=("adult",) if adult else (),
    )
    return [finding, *_weight_needed(order, body, blocked, knowledge)]


# --- IV methylprednisolone, prednisolone / prednisone ------------------------------------------


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
        found = [] if mass.needs else [_unread(topic, order, knowledge, drug=drug)]
        return found + _weight_needed(order, body, blocked, knowledge)
    daily = mass.mg if order.dose and order.dose.per_day else mass.mg * order.doses_per_day
    target = per_kg.value * body.weight_kg if body.weight_kg is not None else None
    over = daily > cap.value or (target is not None and policy.over(daily, target))
    if not over:
        return _weight_needed(order, body, blocked, knowledge)
    if target is not None and body.weight_kg is not None:
        allowed = min(target, cap.value)
        expected = (
            f"{shown_mg(allowed)} a day = {plain(per_kg.value)} mg/kg x "
            f"{plain(body.weight_kg)} kg, max {plain(cap.value)} mg"
        )
        units = _in_units(order, allowed)
        correction = Correction(units[0], units[1], DAILY) if units else None
    else:
        expected, correction = f"at most {plain(cap.value)} mg a day", None
    values = {
        "ordered": shown_mg(daily),
        "expected": expected,
        "finding": _arithmetic(order, f"{shown_mg(daily)} a day", expected, knowledge),
    }
    if topic == "order-steroid-dose":
        values["drug"] = drug
    finding = OrderFinding(
        topic,
        values=values,
        facts=(*_order_facts(order, mass), Fact("daily_dose_mg", plain(daily), "mg")),
        thresholds=(_used(per_kg, "gt"), _used(cap, "gt"), _used(policy.tolerance, "gt")),
        resources=body.resources,
        correction=correction,
    )
    return [finding, *_weight_needed(order, body, blocked, knowledge)]


# --- shared -------------------------------------------------------------------------------------


def _weight_needed(
    order: OrderReading, body: Body, blocked: list[str], knowledge: Knowledge
) -> list[OrderFinding]:
    """``order-weight-needed`` for the checks a missing weight (or height) left undone; the
    card builder words what is wrong with the weight on record."""
    if not blocked:
        return []
    return [
        OrderFinding(
            "order-weight-needed",
            values={"drug": _drug_name(order)},
            blocked=tuple(blocked),
            resources=body.resources,
            facts=_bsa_facts(body),
        )
    ]


def _arithmetic(order: OrderReading, total: str, expected: str, knowledge: Knowledge) -> str:
    """ "As ordered: 22 mg once weekly = **22 mg a week**. For this patient: ..." (Markdown)."""
    texts = knowledge.texts
    if order.dose is None:
        return texts.phrase("order.expected", arithmetic=md_escape(expected))
    schedule = schedule_words(order.timing, texts) if order.per_week else ""
    ordered = texts.phrase(
        "order.asOrdered", dose=md_escape(order.dose.as_written), schedule=schedule, total=total
    )
    return " ".join([ordered, texts.phrase("order.expected", arithmetic=md_escape(expected))])


def _unread(
    topic: str, order: OrderReading, knowledge: Knowledge, *, drug: str | None = None
) -> OrderFinding:
    problem = order.dose_problem or "no dose stated"
    values = {
        "ordered": "",
        "expected": "",
        "finding": knowledge.texts.phrase("order.unreadDose", problem=problem),
    }
    if drug is not None:
        values["drug"] = drug
    return OrderFinding(
        topic,
        case="unread",
        variant="unread",
        values=values,
        facts=(*_order_facts(order, DoseMass(None)), Fact("dose_unread", problem)),
    )


def _order_facts(order: OrderReading, mass: DoseMass) -> tuple[Fact, ...]:
    facts = []
    if order.dose is not None:
        facts.append(Fact("ordered_dose", order.dose.as_written))
    if mass.mg is not None:
        facts.append(Fact("ordered_dose_mg", plain(mass.mg), "mg"))
    if order.per_week is not None:
        facts.append(Fact("administrations_per_week", plain(order.per_week), "/wk"))
    return tuple(facts)


def _bsa_facts(body: Body) -> tuple[Fact, ...]:
    facts = []
    if body.weight is not None:
        facts.append(Fact.of("weight_kg", body.weight))
    if body.height is not None:
        facts.append(Fact.of("height_cm", body.height))
    if body.bsa_m2 is not None:
        facts.append(Fact("bsa_m2", plain(body.bsa_m2), "m2"))
    return tuple(facts)


def _no_bsa_line(body: Body, cap: str, knowledge: Knowledge) -> str:
    return "" if body.bsa_m2 is not None else " " + knowledge.texts.phrase("order.noBsa", cap=cap)


def _in_units(order: OrderReading, target_mg: Decimal) -> tuple[Decimal, str] | None:
    """``target_mg`` (rounded down) in the order's own units: whole tablets of its strength when
    it was written in tablets, else whole mg. None when not even one tablet fits."""
    strength = order.strength
    if order.dose_unit in COUNT_UNITS and strength is not None and strength.per == "count":
        tablets = floor_to(target_mg / strength.mg, Decimal(1))
        return (tablets, order.dose_unit or "{tbl}") if tablets >= 1 else None
    mg = floor_to(target_mg, Decimal(1))
    return (mg, "mg") if mg >= 1 else None


def _correction(
    repeat: dict[str, object] | None, dose: tuple[Decimal, str] | None, keep_dose: bool
) -> Correction | None:
    """The schedule ``repeat`` with the dose kept (in range) or replaced by ``dose``; None
    when the dose is out of range and no corrected dose can be worked out."""
    if keep_dose:
        return Correction(repeat=repeat) if repeat is not None else None
    if dose is None:
        return None
    return Correction(dose[0], dose[1], repeat)


def _used(value: SourcedValue, comparison: str) -> ThresholdUse:
    return ThresholdUse(value.name, value.value, value.unit, comparison, value.sources[0])


def _key(policy: DosingPolicy) -> str:
    return policy.ivig.g_per_kg_per_course.sources[0]


def _drug_name(order: OrderReading) -> str:
    return {
        "methotrexate": "Methotrexate",
        "ivig": "IVIG",
        "rituximab": "Rituximab",
        "methylprednisolone-iv": "IV methylprednisolone",
    }.get(order.agent, (order.ingredient or "prednisolone").capitalize())


def order_reference(order: OrderReading) -> SourceRef | None:
    return SourceRef("MedicationRequest", order.order_id) if order.order_id else None
