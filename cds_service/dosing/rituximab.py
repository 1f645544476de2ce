"""Rituximab for children: 750 mg/m² per infusion (max 1 g), 2 infusions 7 days apart [RIM2013].

The adult fixed regimen (1000 mg × 2, 14 days apart) is never produced here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cds_service.dosing.figures import plain
from cds_service.history.body import mosteller_bsa_m2
from cds_service.history.model import BodySurfaceArea, Measurement, SourceRef
from cds_service.knowledge.dosing_policy import DosingPolicy


@dataclass(frozen=True)
class RituximabDose:
    weight: Measurement
    height: Measurement
    bsa_m2_exact: Decimal
    bsa_m2: Decimal  # as reported (rounded when the policy says so) and used for the dose
    mg_per_m2: Decimal
    uncapped_mg: Decimal  # exact
    cap_mg: Decimal
    capped: bool
    per_infusion_mg: Decimal  # exact, capped
    infusions: int
    interval_days: int
    policy: DosingPolicy

    @property
    def resources(self) -> tuple[SourceRef, ...]:
        """The resources the dose used: the weight and the height."""
        return (self.weight.source, self.height.source)

    def _mg(self, value: Decimal) -> Decimal:
        return self.policy.rounding.round(value, self.policy.rounding.milligrams)

    @property
    def bsa_m2_rounded(self) -> Decimal:
        return self.policy.rounding.round(self.bsa_m2_exact, self.policy.rounding.bsa)

    @property
    def per_infusion_mg_rounded(self) -> Decimal:
        return self._mg(self.per_infusion_mg)

    def evidence(self) -> dict[str, Any]:
        """The rituximab dose object of docs/clinical/card-contract.md."""
        return {
            "agent": "rituximab",
            "bsaM2": plain(self.bsa_m2_rounded),
            "heightCm": plain(self.height.value),
            "weightKg": plain(self.weight.value),
            "mgPerM2": plain(self.mg_per_m2),
            "uncappedMg": plain(self._mg(self.uncapped_mg)),
            "capMg": plain(self.cap_mg),
            "capped": self.capped,
            "perInfusionMg": plain(self.per_infusion_mg_rounded),
            "infusions": self.infusions,
            "intervalDays": self.interval_days,
        }

    @property
    def uncapped_mg_rounded(self) -> Decimal:
        return self._mg(self.uncapped_mg)


def rituximab_dose(
    policy: DosingPolicy,
    *,
    bsa: BodySurfaceArea | None = None,
    weight: Measurement | None = None,
    height: Measurement | None = None,
) -> RituximabDose | None:
    """The paediatric dose from a BSA (its weight and height) or a weight and height; else None.

    BSA is recomputed from its weight and height so one formula and one rounding rule apply.
    """
    if bsa is not None:
        weight, height = bsa.weight, bsa.height
    if weight is None or height is None or weight.value <= 0 or height.value <= 0:
        return None
    rules = policy.rituximab
    bsa_exact = mosteller_bsa_m2(weight.value, height.value)
    bsa_used = (
        policy.rounding.round(bsa_exact, policy.rounding.bsa)
        if policy.rounding.bsa_rounded_before_dose
        else bsa_exact
    )
    mg_per_m2 = rules.mg_per_m2_per_infusion.value
    uncapped = mg_per_m2 * bsa_used
    cap = rules.cap_mg_per_infusion.value
    return RituximabDose(
        weight=weight,
        height=height,
        bsa_m2_exact=bsa_exact,
        bsa_m2=bsa_used,
        mg_per_m2=mg_per_m2,
        uncapped_mg=uncapped,
        cap_mg=cap,
        capped=uncapped > cap,
        per_infusion_mg=min(uncapped, cap),
        infusions=rules.infusions.as_int,
        interval_days=rules.interval_days.as_int,
        policy=policy,
    )
