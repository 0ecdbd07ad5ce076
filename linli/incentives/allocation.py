"""The arithmetic of a fund pool: money in proportion to weight, within a floor and a cap.

No Django here (like `equal_shares.py`): the caller passes weights and money, and gets
amounts in fen back. Exact arithmetic throughout (`Fraction`, then integers of fen), so
that the lines always sum to the cent and every figure can be recomputed by hand.

The rule. Each provider i has a weight w_i >= 0. Find one rate r (yuan per weight
point) such that

    a_i = clamp(r * w_i, floor, cap)   and   sum(a_i) = total,

that is, "proportional to weight, but never below the floor nor above the cap, with
what the floor and the cap move shared among the others in proportion to weight"
(water-filling). The sum is non-decreasing in r and linear between the breakpoints
floor / w_i and cap / w_i, so r is found exactly by walking the sorted breakpoints and
solving the one linear piece where the sum crosses the total. If even everyone at the
cap falls short of the total, everyone gets the cap and the rest stays unallocated; if
the floors alone exceed the total, the pool cannot be shared (`FloorsExceedTotal`).

Rounding to the fen: each exact amount is cut down to whole fen and the fen left over
go one each to the largest remainders, ties to the earlier provider (the caller fixes
the order), so the lines sum exactly to what is allocated. A line held at the floor or
the cap is a whole number of fen already and gets no extra fen, so bounds hold after
rounding too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

Bound = Literal["", "floor", "cap"]
FEN = Decimal("0.01")


class FloorsExceedTotal(ValueError):
    """The floor times the number of providers is more than the pool."""


@dataclass(frozen=True)
class Shares:
    amounts: list[Decimal]  # yuan, two decimals, in the callers' order
    bounds: list[Bound]  # "floor" / "cap" where the bound decided the amount
    rate: Fraction | None  # yuan per weight point for the unbounded lines (None: none)
    allocated: Decimal  # the sum of the amounts
    unallocated: Decimal  # total - allocated (only when every line is at its cap)


def _fen(value: Decimal) -> int:
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{value} is not a whole number of fen")
    return int(fen)


def _exact(weights: list[Fraction], rate: Fraction, floor: int, cap: int | None) -> list[Fraction]:
    out = []
    for w in weights:
        value = rate * w
        value = max(value, Fraction(floor))
        if cap is not None:
            value = min(value, Fraction(cap))
        out.append(value)
    return out


def _solve_rate(weights: list[Fraction], total: int, floor: int, cap: int | None) -> Fraction:
    """The rate r at which sum(clamp(r w_i, floor, cap)) == total (in fen); it exists
    because the caller checked floor * n <= total <= cap * n and some weight is positive."""
    breakpoints = sorted(
        {Fraction(floor) / w for w in weights if w > 0}
        | ({Fraction(cap) / w for w in weights if w > 0} if cap is not None else set())
    )
    low = Fraction(0)
    for point in [*breakpoints, None]:
        # On (low, point) every line is either bound (a constant) or free (r * w).
        probe = low + 1 if point is None else (low + point) / 2
        constant = Fraction(0)
        slope = Fraction(0)
        for w in weights:
            free = probe * w
            if free <= floor:
                constant += floor
            elif cap is not None and free >= cap:
                constant += cap
            else:
                slope += w
        if slope > 0:
            rate = (total - constant) / slope
            if rate >= low and (point is None or rate <= point):
                return rate
        if point is not None:
            low = point
    raise AssertionError("no rate found: the caller's checks should have prevented this")


def allocate(weights: list[Decimal], total: Decimal, floor: Decimal, cap: Decimal | None) -> Shares:
    """Share `total` yuan among the weights, within `floor` and `cap` (None: no cap).

    Raises ValueError for negative inputs or a cap below the floor, and
    FloorsExceedTotal when floor * len(weights) > total.
    """
    if total < 0 or floor < 0 or (cap is not None and cap < floor):
        raise ValueError("the total and the floor must be >= 0 and the cap >= the floor")
    if any(w < 0 for w in weights):
        raise ValueError("weights cannot be negative")
    total_fen, floor_fen = _fen(total), _fen(floor)
    cap_fen = None if cap is None else _fen(cap)
    n = len(weights)
    if n == 0:
        return Shares([], [], None, Decimal("0.00"), total.quantize(FEN))
    if floor_fen * n > total_fen:
        raise FloorsExceedTotal(f"{n} providers at the floor {floor} need more than {total}")
    exact_w = [Fraction(w) for w in weights]
    rate: Fraction | None
    if cap_fen is not None and cap_fen * n <= total_fen:
        exact = [Fraction(cap_fen)] * n
        rate = None
    elif sum(exact_w) == 0:
        # No weight at all: nothing to be proportional to, so equal shares (within bounds,
        # which hold: floor * n <= total < cap * n).
        exact = [Fraction(total_fen, n)] * n
        rate = None
    else:
        rate = _solve_rate(exact_w, total_fen, floor_fen, cap_fen)
        exact = _exact(exact_w, rate, floor_fen, cap_fen)
    target = int(sum(exact))  # a whole number of fen: total, or cap * n
    whole = [int(v) for v in exact]  # floor of a non-negative fraction
    left = target - sum(whole)
    order = sorted(range(n), key=lambda i: (-(exact[i] - whole[i]), i))
    for i in order[:left]:
        whole[i] += 1
    bounds: list[Bound] = []
    for i, w in enumerate(exact_w):
        if cap_fen is not None and exact[i] == cap_fen and (rate is None or rate * w > cap_fen):
            bounds.append("cap")
        elif rate is not None and rate * w < floor_fen:
            bounds.append("floor")
        else:
            bounds.append("")
    amounts = [(Decimal(f) / 100).quantize(FEN) for f in whole]
    allocated = (Decimal(target) / 100).quantize(FEN)
    return Shares(
        amounts=amounts,
        bounds=bounds,
        rate=None if rate is None else rate / 100,  # fen per point -> yuan per point
        allocated=allocated,
        unallocated=(total - allocated).quantize(FEN),
    )
