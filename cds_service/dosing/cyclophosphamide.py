"""IV cyclophosphamide pulses for severe organ disease: a mg range from the BSA, never without one.

500-1000 mg/m² per pulse, at most 1 g, every 4 weeks (cards/dosing.json ``cyclophosphamide``;
docs/clinical/dosing.md). The range is the card's: the expert centre chooses the pulse within it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cds_service.dosing.figures import plain
from cds_service.history.body import mosteller_bsa_m2
from cds_service.history.model import Measurement, SourceRef
from cds_service.knowledge.dosing_policy import DosingPolicy


@dataclass(frozen=True)
class CyclophosphamideDose:
    weight: Measurement
    height: Measurement
    bsa_m2: Decimal  # rounded as the policy says, and used for the range
    low_mg: Decimal  # rounded, capped
    high_mg: Decimal  # rounded, capped
    cap_mg: Decimal
    capped: bool  # the high end of the range reached the cap
    interval_weeks: int

    @property
    def resources(self) -> tuple[SourceRef, ...]:
        return (self.weight.source, self.height.source)

    def evidence(self) -> dict[str, Any]:
        return {
            "agent": "cyclophosphamide",
            "bsaM2": plain(self.bsa_m2),
            "heightCm": plain(self.height.value),
            "weightKg": plain(self.weight.value),
            "lowMg": plain(self.low_mg),
            "highMg": plain(self.high_mg),
            "capMg": plain(self.cap_mg),
            "capped": self.capped,
            "intervalWeeks": self.interval_weeks,
        }


def cyclophosphamide_dose(
    policy: DosingPolicy, *, weight: Measurement, height: Measurement
) -> CyclophosphamideDose | None:
    """The pulse range for this weight and height; None when either is not positive."""
    if weight.value <= 0 or height.value <= 0:
        return None
    rules, rounding = policy.cyclophosphamide, policy.rounding
    bsa = rounding.round(mosteller_bsa_m2(weight.value, height.value), rounding.bsa)
    cap = rules.cap_mg.value

    def mg(per_m2: Decimal) -> Decimal:
        return rounding.round(min(per_m2 * bsa, cap), rounding.milligrams)

    return CyclophosphamideDose(
        weight=weight,
        height=height,
        bsa_m2=bsa,
        low_mg=mg(rules.mg_per_m2_low.value),
        high_mg=mg(rules.mg_per_m2_high.value),
        cap_mg=cap,
        capped=rules.mg_per_m2_high.value * bsa >= cap,
        interval_weeks=rules.interval_weeks.as_int,
    )
