"""A dose on a card in three or four lines: the arithmetic, the split, the volume and rate, the
vials. The step-by-step arithmetic, with every rounding spelt out, is `jdm-cds dose` and the
evidence extension's ``dose`` object; the card keeps what is read at the bedside.
"""

from __future__ import annotations

from decimal import Decimal

from cds_service.card_builder.timeline import line_start
from cds_service.dosing.figures import percent, plain
from cds_service.dosing.ivig import IvigDose
from cds_service.dosing.rituximab import RituximabDose
from cds_service.knowledge.texts import CardTexts
from cds_service.rules.timeutil import day


def card_dose_lines(
    dose: IvigDose | RituximabDose, texts: CardTexts, *, adult: bool = False
) -> list[str]:
    """The Dose section; for an `adult` the rituximab line names both regimens, as the
    recommendation does."""
    if isinstance(dose, IvigDose):
        return ivig_lines(dose, texts)
    return rituximab_lines(dose, texts, adult=adult)


def ivig_lines(dose: IvigDose, texts: CardTexts) -> list[str]:
    weight = dose.weight
    recorded = "" if _in_kg(weight.original) else f", recorded as {weight.original}"
    basis = (
        f"{plain(dose.dosing_weight_kg)} kg (dose-determining weight)"
        if dose.dosing_weight_basis != "actual"
        else f"{plain(weight.value)} kg (weight of {day(weight.at)}{recorded})"
    )
    total = _g(dose, dose.course_total_g)
    capped = f"{_g(dose, dose.uncapped_total_g)} g, capped at " if dose.capped else ""
    split = f"{_g(dose, dose.per_day_g)} g/day × {dose.days} days"
    five = plain(dose.policy.ivig.risk_days.value)
    option = (
        f"; {five}-day option {_g(dose, dose.five_day_per_day_g)} g/day"
        if not dose.five_day_split
        else ""
    )
    lines = [
        f"{plain(dose.g_per_kg)} g/kg × {basis} = {capped}**{total} g per course**: "
        f"{split}{option}."
    ]
    if weight.estimated:
        lines.append(texts.phrase("arithmetic.estimatedWeight"))
    if dose.obesity is not None and dose.dosing_weight_basis == "actual":
        ddw = dose.policy.rounding.round(dose.obesity.ddw_kg, dose.policy.rounding.kilograms)
        on_ddw = dose.g_per_kg * ddw
        alternative = (
            f"{_g(dose, on_ddw)} g, capped at {plain(dose.cap_g)} g"
            if on_ddw > dose.cap_g
            else f"{_g(dose, on_ddw)} g"
        )
        lines.append(
            f"BMI at or above the {plain(dose.policy.obesity.bmi_centile_threshold.value)}th "
            f"centile: on the dose-determining weight ({plain(ddw)} kg) the course is "
            f"{alternative}, as many centres give."
        )
    per_day_ml = dose.policy.rounding.round(
        dose.volume_ml / dose.days, dose.policy.rounding.millilitres
    )
    slow = " (the at-risk maximum: renal, thrombotic or cardiac risk)" if dose.slow_rate else ""
    lines.append(
        f"{line_start(dose.policy.ivig.product.name)}: {plain(dose.volume_ml_rounded)} mL per "
        "course "
        f"({plain(per_day_ml)} mL/day); start at "
        f"{plain(dose.ml_per_hour(dose.start_rate_ml_per_kg_min))} mL/h for "
        f"{dose.start_rate_minutes} min, then up to "
        f"{plain(dose.ml_per_hour(dose.max_rate_ml_per_kg_min))} mL/h{slow}. "
        f"{texts.phrase('arithmetic.productLabel')}"
    )
    vials = dose.vial_rounding
    if vials is not None and vials.deviation_fraction != 0:
        direction = "above" if vials.deviation_fraction > 0 else "below"
        lines.append(
            f"Vials: {plain(vials.rounded_g)} g/day is "
            f"{percent(abs(vials.deviation_fraction))} % {direction} the exact dose."
        )
    return lines


def rituximab_lines(dose: RituximabDose, texts: CardTexts, *, adult: bool = False) -> list[str]:
    capped = f" (capped at {plain(dose.cap_mg)} mg)" if dose.capped else ""
    schedule = (
        texts.phrase("dose.rituximabAdultSchedule")
        if adult
        else f"{dose.infusions} infusions {dose.interval_days} days apart."
    )
    return [
        f"{plain(dose.mg_per_m2)} mg/m² × {plain(dose.bsa_m2_rounded)} m² (height "
        f"{plain(dose.height.value)} cm, weight {plain(dose.weight.value)} kg) = "
        f"**{plain(dose.per_infusion_mg_rounded)} mg per infusion**{capped}; {schedule}"
    ]


def _g(dose: IvigDose, value: Decimal) -> str:
    return plain(dose.policy.rounding.round(value, dose.policy.rounding.grams))


def _in_kg(original: str) -> bool:
    """True when the record gave the weight in kg ("26.0 kg"): nothing to add to the figure."""
    return original.endswith(" kg")
