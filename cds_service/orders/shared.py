"""What the order checks share: schedules of a corrected order, the figures of the evidence,
the dose in the order's own units, and the weight-needed and unread-dose findings."""

from __future__ import annotations

from decimal import Decimal

from cds_service.card_builder.markdown import md_escape
from cds_service.dosing.figures import plain
from cds_service.history.dosage import COUNT_UNITS
from cds_service.knowledge.dosing_policy import SourcedValue
from cds_service.knowledge.loader import Knowledge
from cds_service.orders.body import Body, DoseMass, floor_to
from cds_service.orders.findings import Correction, OrderFinding
from cds_service.orders.read import OrderReading
from cds_service.orders.schedule import schedule_words
from cds_service.rules.findings import Fact, ThresholdUse

WEEKLY = {"frequency": 1, "period": 1, "periodUnit": "wk"}
DAILY = {"frequency": 1, "period": 1, "periodUnit": "d"}
THOUSAND = Decimal(1000)


def weight_needed(
    order: OrderReading, body: Body, blocked: list[str], knowledge: Knowledge
) -> list[OrderFinding]:
    """``order-weight-needed`` for the checks a missing weight (or height) left undone; the
    card builder words what is wrong with the weight on record."""
    if not blocked:
        return []
    return [
        OrderFinding(
            "order-weight-needed",
            values={"drug": drug_name(order)},
            blocked=tuple(blocked),
            resources=body.resources,
            facts=bsa_facts(body),
        )
    ]


def arithmetic(order: OrderReading, total: str, expected: str, knowledge: Knowledge) -> str:
    """ "As ordered: 22 mg once weekly = **22 mg a week**. For this patient: ..." (Markdown)."""
    texts = knowledge.texts
    if order.dose is None:
        return texts.phrase("order.expected", arithmetic=md_escape(expected))
    schedule = schedule_words(order.timing, texts) if order.per_week else ""
    ordered = texts.phrase(
        "order.asOrdered", dose=md_escape(order.dose.as_written), schedule=schedule, total=total
    )
    return " ".join([ordered, texts.phrase("order.expected", arithmetic=md_escape(expected))])


def unread(
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
        facts=(*order_facts(order, DoseMass(None)), Fact("dose_unread", problem)),
    )


def order_facts(order: OrderReading, mass: DoseMass) -> tuple[Fact, ...]:
    facts = []
    if order.dose is not None:
        facts.append(Fact("ordered_dose", order.dose.as_written))
    if mass.mg is not None:
        facts.append(Fact("ordered_dose_mg", plain(mass.mg), "mg"))
    if order.per_week is not None:
        facts.append(Fact("administrations_per_week", plain(order.per_week), "/wk"))
    return tuple(facts)


def bsa_facts(body: Body) -> tuple[Fact, ...]:
    facts = []
    if body.weight is not None:
        facts.append(Fact.of("weight_kg", body.weight))
    if body.height is not None:
        facts.append(Fact.of("height_cm", body.height))
    if body.bsa_m2 is not None:
        facts.append(Fact("bsa_m2", plain(body.bsa_m2), "m2"))
    return tuple(facts)


def no_bsa_line(body: Body, cap: str, knowledge: Knowledge) -> str:
    return "" if body.bsa_m2 is not None else " " + knowledge.texts.phrase("order.noBsa", cap=cap)


def in_units(order: OrderReading, target_mg: Decimal) -> tuple[Decimal, str] | None:
    """``target_mg`` (rounded down) in the order's own units: whole tablets of its strength when
    it was written in tablets, else whole mg. None when not even one tablet fits."""
    strength = order.strength
    if order.dose_unit in COUNT_UNITS and strength is not None and strength.per == "count":
        tablets = floor_to(target_mg / strength.mg, Decimal(1))
        return (tablets, order.dose_unit or "{tbl}") if tablets >= 1 else None
    mg = floor_to(target_mg, Decimal(1))
    return (mg, "mg") if mg >= 1 else None


def correction(
    repeat: dict[str, object] | None, dose: tuple[Decimal, str] | None, keep_dose: bool
) -> Correction | None:
    """The schedule ``repeat`` with the dose kept (in range) or replaced by ``dose``; None
    when the dose is out of range and no corrected dose can be worked out."""
    if keep_dose:
        return Correction(repeat=repeat) if repeat is not None else None
    if dose is None:
        return None
    return Correction(dose[0], dose[1], repeat)


def used(value: SourcedValue, comparison: str) -> ThresholdUse:
    return ThresholdUse(value.name, value.value, value.unit, comparison, value.sources[0])


def drug_name(order: OrderReading) -> str:
    return {
        "methotrexate": "Methotrexate",
        "ivig": "IVIG",
        "rituximab": "Rituximab",
        "methylprednisolone-iv": "IV methylprednisolone",
    }.get(order.agent, (order.ingredient or "prednisolone").capitalize())
