"""The pool arithmetic (allocation.allocate): exact outcomes, and properties that must hold
for any input (sum to the fen, bounds kept, proportional among the unbounded)."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ..allocation import FloorsExceedTotal, allocate


def test_plain_proportional():
    shares = allocate([D(10), D(20), D(70)], D("1000"), D("0"), None)
    assert shares.amounts == [D("100.00"), D("200.00"), D("700.00")]
    assert shares.bounds == ["", "", ""]
    assert shares.rate == 10
    assert shares.allocated == D("1000.00")
    assert shares.unallocated == D("0.00")


def test_floor_raises_the_small_and_the_rest_shares_proportionally():
    # Proportionally 10 / 90 / 900 of 1000; the floor of 100 lifts the first two, whose
    # extra 100 comes out of the third; it alone is paid at the rate, 800 / 90 points.
    shares = allocate([D(1), D(9), D(90)], D("1000"), D("100"), None)
    assert shares.amounts == [D("100.00"), D("100.00"), D("800.00")]
    assert shares.bounds == ["floor", "floor", ""]
    assert shares.rate == Fraction(80, 9)


def test_cap_holds_the_large_and_the_rest_goes_to_the_others():
    shares = allocate([D(1), D(1), D(98)], D("1000"), D("100"), D("500"))
    assert shares.amounts == [D("250.00"), D("250.00"), D("500.00")]
    assert shares.bounds == ["", "", "cap"]
    assert shares.rate == 250


def test_floor_and_cap_together_iterate_to_a_fixed_point():
    # Proportionally 10 / 300 / 690: the giant is held at 450, the small one raised to
    # 150, and the middle takes the 400 left (13.33 a point, below its cap).
    shares = allocate([D(1), D(30), D(69)], D("1000"), D("150"), D("450"))
    assert shares.amounts == [D("150.00"), D("400.00"), D("450.00")]
    assert shares.bounds == ["floor", "", "cap"]
    assert sum(shares.amounts) == D("1000.00")


def test_every_provider_capped_leaves_the_rest_unallocated():
    shares = allocate([D(1), D(2)], D("1000"), D("0"), D("300"))
    assert shares.amounts == [D("300.00"), D("300.00")]
    assert shares.bounds == ["cap", "cap"]
    assert shares.rate is None
    assert shares.allocated == D("600.00")
    assert shares.unallocated == D("400.00")


def test_floors_beyond_the_pool_are_refused():
    with pytest.raises(FloorsExceedTotal):
        allocate([D(1), D(1), D(1)], D("100"), D("40"), None)


def test_floor_exactly_the_pool_gives_everyone_the_floor():
    shares = allocate([D(1), D(5)], D("100"), D("50"), None)
    assert shares.amounts == [D("50.00"), D("50.00")]


def test_rounding_sums_exactly_and_ties_go_to_the_earlier():
    shares = allocate([D(1), D(1), D(1)], D("100"), D("0"), None)
    assert shares.amounts == [D("33.34"), D("33.33"), D("33.33")]
    shares = allocate([D(1)] * 7, D("1.00"), D("0"), None)
    assert shares.amounts == [D("0.15")] * 2 + [D("0.14")] * 5
    assert sum(shares.amounts) == D("1.00")


def test_largest_remainder_wins_the_fen():
    # 100 × 2/3 = 66.666…, 100 × 1/3 = 33.333…: the larger remainder gets the fen.
    shares = allocate([D(1), D(2)], D("100"), D("0"), None)
    assert shares.amounts == [D("33.33"), D("66.67")]


def test_no_provider_leaves_everything_unallocated():
    shares = allocate([], D("500"), D("10"), None)
    assert shares.amounts == []
    assert shares.unallocated == D("500.00")


def test_zero_weights_share_equally():
    shares = allocate([D(0), D(0)], D("10"), D("0"), None)
    assert shares.amounts == [D("5.00"), D("5.00")]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="cap"):
        allocate([D(1)], D("-1"), D("0"), None)
    with pytest.raises(ValueError, match="cap"):
        allocate([D(1)], D("10"), D("5"), D("4"))
    with pytest.raises(ValueError, match="negative"):
        allocate([D(-1)], D("10"), D("0"), None)
    with pytest.raises(ValueError, match="fen"):
        allocate([D(1)], D("10.001"), D("0"), None)


money = st.integers(min_value=0, max_value=10_000_000).map(lambda f: D(f) / 100)


@settings(max_examples=300, deadline=None)
@given(
    weights=st.lists(
        st.integers(min_value=0, max_value=100_000).map(lambda w: D(w) / 100),
        min_size=1,
        max_size=25,
    ),
    total=money,
    floor_share=st.floats(min_value=0, max_value=1),
    cap=st.one_of(st.none(), money),
)
def test_properties(weights, total, floor_share, cap):
    n = len(weights)
    floor = (total / n * D(floor_share)).quantize(D("0.01"), rounding="ROUND_DOWN")
    if cap is not None and cap < floor:
        cap = floor
    shares = allocate(weights, total, floor, cap)
    assert sum(shares.amounts) == shares.allocated
    assert shares.allocated + shares.unallocated == total
    assert all(a >= floor for a in shares.amounts)
    if cap is not None:
        assert all(a <= cap for a in shares.amounts)
    if shares.unallocated:
        assert cap is not None
        assert all(a == cap for a in shares.amounts)
    # Among unbounded lines, money follows weight: a heavier line never gets less.
    free = [(w, a) for w, a, b in zip(weights, shares.amounts, shares.bounds, strict=True) if not b]
    for (w1, a1), (_w2, a2) in zip(sorted(free), sorted(free)[1:], strict=False):
        assert a1 <= a2 + D("0.01")
        if shares.rate is not None and sum(weights):
            assert abs(a1 - w1 * D(shares.rate.numerator) / D(shares.rate.denominator)) < D("0.01")
    # Deterministic: the same input gives the same output.
    assert allocate(weights, total, floor, cap) == shares
