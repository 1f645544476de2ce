"""The child's size as the order checks use it, and an order's dose turned into milligrams.

The weight is the dosing weight of the ``patient-view`` cards (usable only when recent and
plausible: docs/clinical/dosing.md); the body surface area is the one rituximab is dosed on
(Mosteller, rounded by cards/dosing.json), so every BSA-based figure uses one arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from cds_service.dosing import RituximabDose, rituximab_dose, select_height
from cds_service.dosing.figures import plain
from cds_service.history.dosage import MASS_TO_MG, DoseSpec
from cds_service.history.model import Measurement, SourceRef
from cds_service.knowledge.loader import Knowledge
from cds_service.rules.context import ClinicalContext

TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Body:
    weight: Measurement | None  # the usable dosing weight, else None
    weight_kg: Decimal | None
    ivig_weight_kg: Decimal | None  # the IVIG dose-determining weight (DDW when obese)
    height: Measurement | None
    rituximab: RituximabDose | None  # the paediatric dose, which also carries the BSA

    @property
    def bsa_m2(self) -> Decimal | None:
        return self.rituximab.bsa_m2 if self.rituximab is not None else None

    @property
    def resources(self) -> tuple[SourceRef, ...]:
        return tuple(m.source for m in (self.weight, self.height) if m is not None)


def body_of(context: ClinicalContext, knowledge: Knowledge) -> Body:
    dose = context.ivig_dose
    if dose is None:  # no usable weight
        return Body(None, None, None, None, None)
    weight = dose.weight
    height = select_height(context.history.series("height"), weight, knowledge.dosing)
    rituximab = rituximab_dose(knowledge.dosing, weight=weight, height=height) if height else None
    return Body(weight, weight.value, dose.dosing_weight_kg, height, rituximab)


@dataclass(frozen=True)
class DoseMass:
    """One administration's dose in mg, or what it needed and did not have."""

    mg: Decimal | None
    needs: str | None = None  # "weight" | "bsa" when the dose is per kg / per m2 and it is unknown


def dose_mg(spec: DoseSpec | None, weight_kg: Decimal | None, bsa_m2: Decimal | None) -> DoseMass:
    """``30 mg/kg`` x weight, ``15 mg/m2`` x BSA, ``1 g`` as 1000 mg; None when unreadable."""
    if spec is None:
        return DoseMass(None)
    mg = spec.value * MASS_TO_MG[spec.mass_unit]
    if spec.per == "kg":
        return DoseMass(mg * weight_kg) if weight_kg is not None else DoseMass(None, "weight")
    if spec.per == "m2":
        return DoseMass(mg * bsa_m2) if bsa_m2 is not None else DoseMass(None, "bsa")
    return DoseMass(mg)


def shown_mg(value: Decimal) -> str:
    """A figure in mg as a card shows it: to 0.1 mg, ``87.5 mg``; above 100 mg whole."""
    quantum = Decimal(1) if value >= 100 else TENTH
    return f"{plain(value.quantize(quantum, rounding=ROUND_HALF_UP))} mg"


def shown_g(value_mg: Decimal) -> str:
    return f"{plain((value_mg / 1000).quantize(TENTH, rounding=ROUND_HALF_UP))} g"


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded down to a whole number of ``step`` (a suggestion never rounds up)."""
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step
