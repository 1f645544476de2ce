"""Dose arithmetic in words, one line per step, so a pharmacist can check it quickly."""

from __future__ import annotations

from decimal import Decimal

from cds_service.dosing.figures import percent, plain
from cds_service.dosing.ivig import IvigDose
from cds_service.dosing.rituximab import RituximabDose
from cds_service.knowledge.texts import CardTexts


def ivig_arithmetic_lines(dose: IvigDose, texts: CardTexts) -> list[str]:
    lines = [_weight_line(dose, texts)]
    lines.extend(_obesity_lines(dose))
    lines.append(_total_line(dose))
    lines.extend(_split_lines(dose))
    lines.append(_volume_line(dose))
    lines.append(_rate_line(dose, texts))
    lines.extend(_vial_lines(dose))
    lines.append(f"Rounding: {texts.phrase('arithmetic.rounding')}")
    return lines


def _g(dose: IvigDose, value: Decimal) -> str:
    return plain(dose.policy.rounding.round(value, dose.policy.rounding.grams))


def _kg(dose: IvigDose, value: Decimal) -> str:
    return plain(dose.policy.rounding.round(value, dose.policy.rounding.kilograms))


def _weight_line(dose: IvigDose, texts: CardTexts) -> str:
    weight = dose.weight
    recorded = f", recorded as {weight.original}" if not weight.original.endswith(" kg") else ""
    line = (
        f"Weight: {plain(weight.value)} kg{recorded} ({weight.source.reference}, measured "
        f"{weight.at.date().isoformat()}); dose calculated on the "
        + ("actual weight." if dose.dosing_weight_basis == "actual" else "dose-determining weight.")
    )
    return f"{line} {texts.phrase('arithmetic.estimatedWeight')}" if weight.estimated else line


# the reference BMI as a growth chart gives it, to 0.1 kg/m² (the IBW is worked from the exact one)
BMI_SHOWN = Decimal("0.1")


def _obesity_lines(dose: IvigDose) -> list[str]:
    obesity = dose.obesity
    if obesity is None:
        return []
    height_m = plain(obesity.height.value / 100)
    threshold = plain(dose.policy.obesity.bmi_centile_threshold.value)
    ibw_centile = plain(dose.policy.obesity.ibw_bmi_centile.value)
    ibw = _kg(dose, obesity.ibw_kg)
    lines = [
        f"BMI-for-age centile {plain(obesity.bmi_centile)} (at or above the {threshold}th): "
        f"IBW = {plain(obesity.bmi_p50_kg_m2.quantize(BMI_SHOWN))} kg/m² (BMI {ibw_centile}th "
        "centile) × "
        f"({height_m} m)² "
        f"= {ibw} kg; DDW = {ibw} + {plain(dose.policy.obesity.ddw_excess_fraction.value)} × "
        f"({plain(dose.weight.value)} − {ibw}) = {_kg(dose, obesity.ddw_kg)} kg."
    ]
    g_per_kg = dose.g_per_kg
    cap = dose.cap_g
    if dose.dosing_weight_basis == "actual":
        ddw_kg = dose.policy.rounding.round(obesity.ddw_kg, dose.policy.rounding.kilograms)
        lines.append(
            f"Alternative used by many centres: {plain(g_per_kg)} g/kg × {plain(ddw_kg)} kg DDW "
            f"= {_capped(dose, g_per_kg * ddw_kg, cap)}."
        )
    else:
        lines.append(
            f"On the actual weight: {plain(g_per_kg)} g/kg × {plain(dose.weight.value)} kg "
            f"= {_capped(dose, g_per_kg * dose.weight.value, cap)}."
        )
    return lines


def _capped(dose: IvigDose, uncapped_g: Decimal, cap_g: Decimal) -> str:
    if uncapped_g > cap_g:
        return f"{_g(dose, uncapped_g)} g → capped at {plain(cap_g)} g per course"
    return f"{_g(dose, uncapped_g)} g per course"


def _total_line(dose: IvigDose) -> str:
    product = (
        f"{plain(dose.g_per_kg)} g/kg × {plain(dose.dosing_weight_kg)} kg = "
        f"{_g(dose, dose.uncapped_total_g)} g"
    )
    if dose.capped:
        return f"{product} → capped at {plain(dose.cap_g)} g per course."
    return f"{product} per course (cap {plain(dose.cap_g)} g not reached)."


def _split_lines(dose: IvigDose) -> list[str]:
    total = _g(dose, dose.course_total_g)
    main = f"{total} g ÷ {dose.days} days = {_g(dose, dose.per_day_g)} g/day"
    given = dose.per_day_g_rounded * dose.days
    difference = given - dose.course_total_g_rounded
    if difference:
        main += (
            f" ({dose.days} × {plain(dose.per_day_g_rounded)} g = {plain(given)} g, "
            f"{plain(abs(difference))} g {'above' if difference > 0 else 'below'} the course "
            "total because of rounding)"
        )
    five = plain(dose.policy.ivig.risk_days.value)
    if dose.five_day_split:
        return [main + f"; {five}-day split because of a renal, thrombosis or fluid-load risk."]
    return [
        main + ".",
        f"{five}-day alternative: {total} g ÷ {five} days = "
        f"{_g(dose, dose.five_day_per_day_g)} g/day.",
    ]


def _volume_line(dose: IvigDose) -> str:
    concentration = dose.policy.ivig.product.concentration_g_per_ml.value
    ml = plain(dose.volume_ml_rounded)
    per_day_ml = plain(
        dose.policy.rounding.round(dose.volume_ml / dose.days, dose.policy.rounding.millilitres)
    )
    return (
        f"Volume of {dose.policy.ivig.product.name}: {_g(dose, dose.course_total_g)} g ÷ "
        f"{plain(concentration)} g/mL = {ml} mL per course ({per_day_ml} mL/day)."
    )


def _rate_line(dose: IvigDose, texts: CardTexts) -> str:
    kg = plain(dose.dosing_weight_kg)
    start = dose.start_rate_ml_per_kg_min
    maximum = dose.max_rate_ml_per_kg_min
    reason = " (renal, thrombotic or cardiac risk)" if dose.slow_rate else ""
    return (
        f"Rate: start {plain(start)} mL/kg/min × {kg} kg = {plain(dose.ml_per_hour(start))} mL/h "
        f"for {dose.start_rate_minutes} min, then increase to at most {plain(maximum)} mL/kg/min"
        f"{reason} = {plain(dose.ml_per_hour(maximum))} mL/h. "
        f"{texts.phrase('arithmetic.productLabel')}"
    )


def _vial_lines(dose: IvigDose) -> list[str]:
    vials = dose.vial_rounding
    if vials is None:
        return []
    sizes = "/".join(plain(size) for size in vials.vial_sizes_g)
    direction = "above" if vials.deviation_fraction > 0 else "below"
    if vials.deviation_fraction == 0:
        return [f"Vials ({sizes} g): {plain(vials.rounded_g)} g/day is an exact vial combination."]
    return [
        f"Rounded to vials ({sizes} g): {plain(vials.rounded_g)} g/day, "
        f"{percent(abs(vials.deviation_fraction))} % {direction} the exact "
        f"{_g(dose, vials.exact_g)} g/day (limit {percent(vials.max_deviation_fraction)} %)."
    ]


def rituximab_arithmetic_lines(dose: RituximabDose, texts: CardTexts) -> list[str]:
    bsa = plain(dose.bsa_m2_rounded)
    product = f"{plain(dose.mg_per_m2)} mg/m² × {bsa} m² = {plain(dose.uncapped_mg_rounded)} mg"
    dose_line = (
        f"{product} → capped at {plain(dose.cap_mg)} mg per infusion."
        if dose.capped
        else f"{product} per infusion (cap {plain(dose.cap_mg)} mg not reached)."
    )
    return [
        f"Height {plain(dose.height.value)} cm ({dose.height.source.reference}, "
        f"{dose.height.at.date().isoformat()}), weight {plain(dose.weight.value)} kg "
        f"({dose.weight.source.reference}, {dose.weight.at.date().isoformat()}).",
        f"BSA ({dose.policy.bsa.formula}) = √({plain(dose.height.value)} × "
        f"{plain(dose.weight.value)} / 3600)"
        f" = {bsa} m².",
        dose_line,
        f"{dose.infusions} infusions of {plain(dose.per_infusion_mg_rounded)} mg, "
        f"{dose.interval_days} days apart (weeks 0 and 1).",
        texts.phrase("rituximab.adultRegimen"),
        f"Rounding: {texts.phrase('arithmetic.rounding')}",
    ]


def arithmetic_lines(dose: IvigDose | RituximabDose, texts: CardTexts) -> list[str]:
    if isinstance(dose, IvigDose):
        return ivig_arithmetic_lines(dose, texts)
    return rituximab_arithmetic_lines(dose, texts)
