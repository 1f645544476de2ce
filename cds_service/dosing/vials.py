"""Rounding a per-day dose to a combination of vial sizes, never beyond the allowed deviation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class VialChoice:
    """A per-day amount made of whole vials, and how far it is from the exact dose."""

    exact_g: Decimal
    rounded_g: Decimal
    deviation_fraction: Decimal  # (rounded - exact) / exact, signed
    vial_sizes_g: tuple[Decimal, ...]
    max_deviation_fraction: Decimal


def achievable_amounts(vial_sizes_g: Sequence[Decimal], limit_g: Decimal) -> set[Decimal]:
    """Every total (> 0) that whole vials can make, up to ``limit_g``."""
    amounts: set[Decimal] = set()
    frontier = [Decimal(0)]
    while frontier:
        base = frontier.pop()
        for size in vial_sizes_g:
            total = base + size
            if total <= limit_g and total not in amounts:
                amounts.add(total)
                frontier.append(total)
    return amounts


def round_to_vials(
    exact_g: Decimal,
    vial_sizes_g: Sequence[Decimal],
    max_deviation_fraction: Decimal,
    *,
    tie_break: str = "lower",
    at_most: Decimal | None = None,
) -> VialChoice | None:
    """The vial total nearest ``exact_g`` within the deviation, or None when there is none; never
    more than ``at_most`` (a course's cap shared over its days is not rounded past).

    >>> sizes = [Decimal("2.5"), Decimal("5"), Decimal("10"), Decimal("20")]
    >>> round_to_vials(Decimal("26"), sizes, Decimal("0.1")).rounded_g
    Decimal('25')
    >>> round_to_vials(Decimal("14"), sizes, Decimal("0.1")).rounded_g
    Decimal('15')
    >>> round_to_vials(Decimal("14"), sizes, Decimal("0.1"), at_most=Decimal("14")) is None
    True
    """
    if exact_g <= 0 or not vial_sizes_g:
        return None
    limit = exact_g * (1 + max_deviation_fraction)
    if at_most is not None:
        limit = min(limit, at_most)
    candidates = [
        amount
        for amount in achievable_amounts(vial_sizes_g, limit)
        if abs(amount - exact_g) <= exact_g * max_deviation_fraction
    ]
    if not candidates:
        return None
    prefer_lower = tie_break == "lower"
    best = min(
        candidates,
        key=lambda amount: (abs(amount - exact_g), amount if prefer_lower else -amount),
    )
    return VialChoice(
        exact_g=exact_g,
        rounded_g=best,
        deviation_fraction=(best - exact_g) / exact_g,
        vial_sizes_g=tuple(vial_sizes_g),
        max_deviation_fraction=max_deviation_fraction,
    )
