"""IVIG per course: 2 g/kg up to the cap, split over 2 or 5 days; volume and rates (10 % product).

Every intermediate figure is kept exact on :class:`IvigDose`; figures are rounded once, when shown
(:meth:`IvigDose.evidence`; the card builder words the arithmetic), by the policy's stated rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cds_service.dosing.figures import plain
from cds_service.dosing.growth import dose_determining_weight_kg, ideal_body_weight_kg
from cds_service.dosing.vials import VialChoice, round_to_vials
from cds_service.history.model import Measurement, SourceRef
from cds_service.knowledge.dosing_policy import DosingPolicy

MINUTES_PER_HOUR = Decimal(60)


@dataclass(frozen=True)
class ObesityAdjustment:
    """BMI-for-age at or above the threshold: the dose-determining weight (DDW)."""

    bmi_centile: Decimal
    bmi_p50_kg_m2: Decimal  # BMI at the IBW centile (50th) for age and sex
    height: Measurement
    ibw_kg: Decimal  # exact
    ddw_kg: Decimal  # exact


@dataclass(frozen=True)
class IvigDose:
    """One IVIG course, exact figures; ``policy`` supplies the rounding rule for display."""

    weight: Measurement
    dosing_weight_basis: str  # "actual" | "ddw"
    dosing_weight_kg: Decimal
    obesity: ObesityAdjustment | None
    g_per_kg: Decimal
    uncapped_total_g: Decimal
    cap_g: Decimal
    capped: bool
    course_total_g: Decimal
    days: int
    five_day_split: bool  # True when days is the at-risk split
    per_day_g: Decimal
    five_day_per_day_g: Decimal
    volume_ml: Decimal
    start_rate_ml_per_kg_min: Decimal
    start_rate_minutes: int
    max_rate_ml_per_kg_min: Decimal
    slow_rate: bool  # the at-risk maximum rate applies
    vial_rounding: VialChoice | None
    policy: DosingPolicy

    @property
    def resources(self) -> tuple[SourceRef, ...]:
        """The resources the dose used: the weight, and the height when the DDW was shown."""
        used = [self.weight.source]
        if self.obesity is not None:
            used.append(self.obesity.height.source)
        return tuple(used)

    # --- rounded figures (the only place rounding happens) ---
    def _g(self, value: Decimal) -> Decimal:
        return self.policy.rounding.round(value, self.policy.rounding.grams)

    @property
    def course_total_g_rounded(self) -> Decimal:
        return self._g(self.course_total_g)

    @property
    def per_day_g_rounded(self) -> Decimal:
        return self._g(self.per_day_g)

    @property
    def volume_ml_rounded(self) -> Decimal:
        return self.policy.rounding.round(self.volume_ml, self.policy.rounding.millilitres)

    @property
    def ddw_kg_rounded(self) -> Decimal | None:
        if self.obesity is None:
            return None
        return self.policy.rounding.round(self.obesity.ddw_kg, self.policy.rounding.kilograms)

    def ml_per_hour(self, rate_ml_per_kg_min: Decimal) -> Decimal:
        exact = rate_ml_per_kg_min * self.dosing_weight_kg * MINUTES_PER_HOUR
        return self.policy.rounding.round(exact, self.policy.rounding.ml_per_hour)

    def evidence(self) -> dict[str, Any]:
        """The dose object of docs/clinical/card-contract.md (numbers as Decimal strings)."""
        dose: dict[str, Any] = {
            "agent": "ivig",
            "weightKg": plain(self.weight.value),
            "weightObservation": self.weight.source.reference,
            "weightDate": self.weight.at.isoformat(),
            "dosingWeightBasis": self.dosing_weight_basis,
            "gPerKg": plain(self.g_per_kg),
            "uncappedTotalG": plain(self._g(self.uncapped_total_g)),
            "capG": plain(self.cap_g),
            "capped": self.capped,
            "courseTotalG": plain(self.course_total_g_rounded),
            "days": self.days,
            "perDayG": plain(self.per_day_g_rounded),
            "fiveDayPerDayG": plain(self._g(self.five_day_per_day_g)),
            "volumeMl": plain(self.volume_ml_rounded),
            "startRateMlPerKgMin": plain(self.start_rate_ml_per_kg_min),
            "maxRateMlPerKgMin": plain(self.max_rate_ml_per_kg_min),
        }
        if self.ddw_kg_rounded is not None:
            dose["ddwKg"] = plain(self.ddw_kg_rounded)
        if self.vial_rounding is not None:
            dose["roundedPerDayG"] = plain(self.vial_rounding.rounded_g)
        return dose


def ivig_course_dose(
    weight: Measurement,
    policy: DosingPolicy,
    *,
    risk_5_day: bool,
    risk_slow_rate: bool,
    height: Measurement | None = None,
    bmi_centile: Decimal | None = None,
    bmi_p50_kg_m2: Decimal | None = None,
) -> IvigDose:
    """The IVIG course for a usable weight (see :func:`select_dosing_weight`).

    ``risk_5_day``: a renal, thrombosis or fluid-load risk -> the 5-day split.
    ``risk_slow_rate``: a renal, thrombotic or cardiac risk -> the lower maximum rate.
    ``height``, ``bmi_centile`` and ``bmi_p50_kg_m2`` (BMI at the 50th centile for age and sex,
    from :mod:`cds_service.dosing.growth`) enable the obesity adjustment; without them the actual
    weight is used and no DDW is shown.
    """
    ivig = policy.ivig
    low, high = policy.weight.plausible_min_kg.value, policy.weight.plausible_max_kg.value
    if not low <= weight.value <= high:
        # select_dosing_weight never yields such a weight; a caller that skipped it gets no dose
        raise ValueError(f"weight {weight.value} kg is outside {low}-{high} kg: not dosed")
    obesity = _obesity_adjustment(weight, policy, height, bmi_centile, bmi_p50_kg_m2)
    use_ddw = obesity is not None and policy.obesity.dose_weight == "ddw"
    dosing_weight_kg = _dosing_weight_kg(weight, obesity if use_ddw else None, policy)
    g_per_kg = ivig.g_per_kg_per_course.value
    uncapped = g_per_kg * dosing_weight_kg
    cap = ivig.cap_g_per_course.value
    total = min(uncapped, cap)
    days = ivig.risk_days.as_int if risk_5_day else ivig.default_days.as_int
    per_day = total / days
    return IvigDose(
        weight=weight,
        dosing_weight_basis="ddw" if use_ddw else "actual",
        dosing_weight_kg=dosing_weight_kg,
        obesity=obesity,
        g_per_kg=g_per_kg,
        uncapped_total_g=uncapped,
        cap_g=cap,
        capped=uncapped > cap,
        course_total_g=total,
        days=days,
        five_day_split=risk_5_day,
        per_day_g=per_day,
        five_day_per_day_g=total / ivig.risk_days.value,
        volume_ml=total / ivig.product.concentration_g_per_ml.value,
        start_rate_ml_per_kg_min=ivig.start_rate_ml_per_kg_min.value,
        start_rate_minutes=ivig.start_rate_minutes.as_int,
        max_rate_ml_per_kg_min=(
            ivig.max_rate_at_risk_ml_per_kg_min if risk_slow_rate else ivig.max_rate_ml_per_kg_min
        ).value,
        slow_rate=risk_slow_rate,
        vial_rounding=_vials(per_day, policy, per_day_cap=cap / days),
        policy=policy,
    )


def _dosing_weight_kg(
    weight: Measurement, obesity: ObesityAdjustment | None, policy: DosingPolicy
) -> Decimal:
    if obesity is None:
        return weight.value
    # the DDW is reported to 0.1 kg and dosed as reported, so the arithmetic can be repeated
    return policy.rounding.round(obesity.ddw_kg, policy.rounding.kilograms)


def _vials(per_day_g: Decimal, policy: DosingPolicy, *, per_day_cap: Decimal) -> VialChoice | None:
    """Whole vials near the daily dose; never so many that the course passes its cap."""
    vials = policy.ivig.vial_rounding
    if not vials.enabled:
        return None
    return round_to_vials(
        per_day_g,
        vials.vial_sizes_g,
        vials.max_deviation_fraction.value,
        tie_break=vials.tie_break,
        at_most=per_day_cap,
    )


def _obesity_adjustment(
    weight: Measurement,
    policy: DosingPolicy,
    height: Measurement | None,
    bmi_centile: Decimal | None,
    bmi_p50_kg_m2: Decimal | None,
) -> ObesityAdjustment | None:
    if height is None or bmi_centile is None or bmi_p50_kg_m2 is None:
        return None
    if bmi_centile < policy.obesity.bmi_centile_threshold.value or height.value <= 0:
        return None
    ibw_kg = ideal_body_weight_kg(bmi_p50_kg_m2, height.value)
    if ibw_kg >= weight.value:
        return None  # the formula only ever reduces an excess over IBW
    ddw_kg = dose_determining_weight_kg(
        weight.value, ibw_kg, policy.obesity.ddw_excess_fraction.value
    )
    return ObesityAdjustment(
        bmi_centile=bmi_centile,
        bmi_p50_kg_m2=bmi_p50_kg_m2,
        height=height,
        ibw_kg=ibw_kg,
        ddw_kg=ddw_kg,
    )
