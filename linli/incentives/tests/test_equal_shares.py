"""The two rules on small instances with exact outcomes, and properties of MES."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ..equal_shares import Why, equal_shares, equal_shares_reference, greedy


def matrix(ballots: list[set[int]], m: int) -> np.ndarray:
    return np.array([[i in b for i in range(m)] for b in ballots], dtype=bool).reshape(-1, m)


def test_greedy_skips_what_no_longer_fits_and_goes_on():
    ballots = [{0, 1, 2}] * 3 + [{0, 1}] + [{0}]
    outcome = greedy([60, 50, 30], matrix(ballots, 3), 100)
    assert outcome.order == [0, 2]
    assert outcome.spent == 90
    assert [line.why for line in outcome.lines] == [
        Why.GREEDY_FUNDED,
        Why.GREEDY_SKIPPED,
        Why.GREEDY_FUNDED,
    ]
    assert outcome.lines[1].money_left == 40


def test_equal_shares_is_proportional_where_greedy_is_not():
    # Six voters want A0, A1, A2; four want B3, B4; each costs 30 of 100.
    ballots = [{0, 1, 2}] * 6 + [{3, 4}] * 4
    approvals = matrix(ballots, 5)
    costs = [30] * 5
    assert greedy(costs, approvals, 100).order == [0, 1, 2]
    outcome = equal_shares(costs, approvals, 100)
    assert outcome.order == [0, 1, 3]
    assert [outcome.lines[i].rho for i in (0, 1, 3)] == [5.0, 5.0, 7.5]
    assert outcome.lines[2].why == Why.COMPLETION_SKIPPED
    assert outcome.lines[2].supporters_money == 0.0
    assert outcome.lines[4].supporters_money == 10.0
    assert outcome.mes_spent == 90.0


def test_completion_spends_what_equal_shares_left():
    # Voter 0 approves P0 (40) and P2 (20), voter 1 approves P1 (55); each has 50.
    ballots = [{0, 2}, {1}]
    outcome = equal_shares([40, 55, 20], matrix(ballots, 3), 100)
    assert outcome.order == [2, 0]
    assert outcome.mes_spent == 20
    assert outcome.lines[0].why == Why.COMPLETION_FUNDED
    assert outcome.lines[1].why == Why.COMPLETION_SKIPPED
    assert outcome.spent == 60
    assert equal_shares([40, 55, 20], matrix(ballots, 3), 100, completion=False).order == [2]


def test_no_ballots_funds_nothing():
    outcome = equal_shares([10, 20], np.zeros((0, 2), dtype=bool), 100)
    assert outcome.order == []
    assert outcome.spent == 0


instances = st.integers(1, 7).flatmap(
    lambda m: st.tuples(
        st.lists(st.integers(1, 50), min_size=m, max_size=m),
        st.lists(st.sets(st.integers(0, m - 1)), min_size=0, max_size=25),
        st.integers(1, 200),
    )
)


@settings(max_examples=200, deadline=None)
@given(instances)
def test_equal_shares_never_overspends(instance):
    costs, ballots, budget = instance
    approvals = matrix(ballots, len(costs))
    for completion in (False, True):
        outcome = equal_shares(costs, approvals, budget, completion=completion)
        spent = sum(costs[i] for i in outcome.order)
        assert spent <= budget + 1e-6
        assert abs(outcome.spent - spent) < 1e-6
        assert len(set(outcome.order)) == len(outcome.order)
        assert all(costs[i] <= budget for i in outcome.order)
        assert all(outcome.lines[i].votes > 0 for i in outcome.order)
    plain = equal_shares(costs, approvals, budget, completion=False)
    assert plain.order == equal_shares_reference(costs, ballots, budget)
