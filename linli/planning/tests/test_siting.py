"""Siting engine: exact answers against brute force, reductions, heuristics, validation."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.planning.engine.siting import (
    SitingInputError,
    maximal_covering,
    p_median,
    set_covering,
)
from linli.planning.engine.siting_reduce import canonical_csr, dominated_columns, merge_rows


def instance(seed: int, n: int = 30, m: int = 9, density: float = 0.25):
    rng = np.random.default_rng(seed)
    cover = rng.random((n, m)) < density
    weights = rng.integers(0, 20, n).astype(float)
    return weights, cover


def covered(weights, cover, chosen, existing=None) -> float:
    mask = cover[:, list(chosen)].any(axis=1) if len(chosen) else np.zeros(len(weights), bool)
    if existing is not None:
        mask |= existing
    return float(weights[mask].sum())


def brute_mclp(weights, cover, k, costs=None, budget=None, existing=None) -> float:
    m = cover.shape[1]
    best = covered(weights, cover, [], existing)
    for size in range(1, m + 1):
        if budget is None and size > k:
            break
        for combo in itertools.combinations(range(m), size):
            if budget is not None and costs[list(combo)].sum() > budget:
                continue
            best = max(best, covered(weights, cover, combo, existing))
    return best


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_mclp_exact_equals_brute_force(seed, k):
    weights, cover = instance(seed)
    result = maximal_covering(weights, sp.csr_matrix(cover), k=k, mip_rel_gap=0.0)
    assert result.objective == brute_mclp(weights, cover, k)
    assert result.gap == 0.0
    assert result.method == "exact"
    assert len(result.chosen) <= k
    assert result.objective == covered(weights, cover, result.chosen)


@pytest.mark.parametrize("seed", range(6))
def test_heuristic_never_beats_exact_and_bound_holds(seed):
    weights, cover = instance(seed, n=40, m=12)
    exact = maximal_covering(weights, cover, k=3, mip_rel_gap=0.0)
    quick = maximal_covering(weights, cover, k=3, method="heuristic")
    assert quick.method == "greedy+swap"
    assert quick.objective <= exact.objective
    assert quick.bound >= exact.objective  # a proven upper bound
    assert quick.objective == covered(weights, cover, quick.chosen)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    n=st.integers(1, 14),
    m=st.integers(1, 7),
    k=st.integers(1, 3),
)
def test_reductions_preserve_the_optimum(data, n, m, k):
    cover = np.array(
        data.draw(st.lists(st.lists(st.booleans(), min_size=m, max_size=m), min_size=n, max_size=n))
    )
    weights = np.array(data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), float)
    costs = np.array(data.draw(st.lists(st.integers(1, 4), min_size=m, max_size=m)), float)
    reduced = maximal_covering(weights, cover, k=k, mip_rel_gap=0.0)
    plain = maximal_covering(weights, cover, k=k, mip_rel_gap=0.0, reduce=False, warm_start=False)
    assert reduced.objective == plain.objective == brute_mclp(weights, cover, k)
    budget = 4.0
    reduced_b = maximal_covering(weights, cover, budget=budget, costs=costs, mip_rel_gap=0.0)
    assert reduced_b.objective == brute_mclp(weights, cover, k, costs=costs, budget=budget)
    assert costs[reduced_b.chosen].sum() <= budget


def test_merge_rows_sums_weights_of_identical_rows():
    cover = canonical_csr(sp.csr_matrix(np.array([[1, 0, 1], [1, 0, 1], [0, 1, 0], [1, 0, 1]])))
    merged, weight, groups = merge_rows(cover, np.array([1.0, 2.0, 5.0, 4.0]))
    assert merged.shape == (2, 3)
    assert weight.tolist() == [7.0, 5.0]
    assert groups.tolist() == [0, 0, 1, 0]


def test_dominated_columns_keep_one_of_a_tie_and_respect_cost():
    cover = canonical_csr(sp.csr_matrix(np.array([[1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 1]])))
    # 0 ⊂ 1 = 2 (a tie: the later index goes), 3 alone; 0 cheaper than 1 so it stays.
    cost = np.array([1.0, 1.0, 1.0, 1.0])
    assert dominated_columns(cover, cost).tolist() == [True, False, True, False]
    cost = np.array([0.5, 1.0, 1.0, 1.0])
    assert dominated_columns(cover, cost).tolist() == [False, False, True, False]


def test_budget_variant_and_cost_reported():
    weights = np.array([10.0, 10.0, 10.0, 1.0])
    cover = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]], bool)
    costs = np.array([3.0, 3.0, 1.0])
    result = maximal_covering(weights, cover, budget=4.0, costs=costs, mip_rel_gap=0.0)
    assert sorted(result.chosen.tolist()) == [0, 2]
    assert result.objective == 21.0
    assert result.cost == 4.0


def test_existing_and_committed_sites_count_as_already_covered():
    weights = np.array([5.0, 4.0, 3.0, 2.0])
    cover = np.eye(4, dtype=bool)
    existing = np.array([True, False, False, False])
    result = maximal_covering(weights, cover, k=1, existing=existing, committed=[1])
    assert existing.tolist() == [True, False, False, False]  # the caller's array is kept
    assert result.before == 9.0
    assert result.chosen.tolist() == [2]
    assert result.after == 12.0
    assert result.reduction.demand_already_covered == 2
    assert result.reduction.candidates_committed == 1


def test_marginal_and_order_gains_add_up():
    weights, cover = instance(3, n=50, m=10, density=0.3)
    existing = np.zeros(50, bool)
    existing[:5] = True
    result = maximal_covering(weights, cover, k=4, existing=existing, mip_rel_gap=0.0)
    assert result.order_gain.sum() == pytest.approx(result.after - result.before)
    # Greedy order: each site adds at least as much as the one after it.
    assert (np.diff(result.order_gain) <= 1e-9).all()
    for j, unique in zip(result.chosen, result.marginal_gain, strict=True):
        others = [o for o in result.chosen if o != j]
        assert unique == covered(weights, cover, result.chosen, existing) - covered(
            weights, cover, others, existing
        )


def test_k_at_least_the_useful_candidates_opens_them_all():
    weights = np.array([1.0, 2.0])
    cover = np.array([[1, 0, 0], [0, 1, 0]], bool)
    result = maximal_covering(weights, cover, k=5)
    assert sorted(result.chosen.tolist()) == [0, 1]
    assert result.gap == 0.0
    assert result.reduction.candidates_useless == 1


def brute_lscp(cover, costs):
    m = cover.shape[1]
    need = cover.any(axis=1)
    best = np.inf
    for size in range(0, m + 1):
        for combo in itertools.combinations(range(m), size):
            if (cover[:, list(combo)].any(axis=1) >= need).all():
                best = min(best, costs[list(combo)].sum())
    return best


@pytest.mark.parametrize("seed", range(6))
def test_set_covering_exact_is_minimal(seed):
    _, cover = instance(seed, n=25, m=8, density=0.3)
    rng = np.random.default_rng(seed)
    costs = rng.integers(1, 5, 8).astype(float)
    for cost in (None, costs):
        result = set_covering(cover, costs=cost)
        expected = brute_lscp(cover, np.ones(8) if cost is None else cost)
        assert result.objective == expected
        assert result.gap == 0.0
        chosen = cover[:, result.chosen].any(axis=1)
        assert (chosen | ~cover.any(axis=1)).all()
        quick = set_covering(cover, costs=cost, method="heuristic")
        assert quick.objective >= expected
        assert quick.bound <= expected + 1e-9


def test_set_covering_reports_uncoverable_demand_instead_of_failing():
    cover = np.array([[1, 0], [0, 1], [0, 0], [0, 0]], bool)
    weights = np.array([1.0, 1.0, 3.0, 0.0])
    result = set_covering(cover, weights=weights)
    assert result.uncoverable.tolist() == [2]  # point 3 has no weight: nothing to cover
    assert sorted(result.chosen.tolist()) == [0, 1]
    assert result.after == 2.0
    assert result.total_weight == 5.0


def brute_pmedian(weights, dist, p, cap=None):
    best = np.inf
    for size in range(1, p + 1):
        for combo in itertools.combinations(range(dist.shape[1]), size):
            d = dist[:, list(combo)].min(axis=1)
            if cap is not None:
                d = np.minimum(d, cap)
            best = min(best, float((weights * d).sum()))
    return best


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("p", [1, 2, 3])
def test_p_median_exact_equals_brute_force(seed, p):
    rng = np.random.default_rng(seed)
    dist = np.round(rng.random((12, 6)) * 100)
    weights = rng.integers(1, 5, 12).astype(float)
    result = p_median(weights, dist, p=p, mip_rel_gap=0.0)
    assert result.objective == pytest.approx(brute_pmedian(weights, dist, p))
    quick = p_median(weights, dist, p=p, method="heuristic")
    assert quick.objective >= result.objective - 1e-9
    assert quick.bound <= result.objective + 1e-6


def test_p_median_cutoff_sparse_and_existing():
    rng = np.random.default_rng(7)
    dist = np.round(rng.random((15, 6)) * 100)
    weights = rng.integers(1, 5, 15).astype(float)
    existing = np.round(rng.random(15) * 120)
    cap = np.minimum(existing, 60.0)
    rows, cols = np.nonzero(dist < 60.0)
    sparse = sp.csr_matrix((dist[rows, cols], (rows, cols)), shape=dist.shape)
    result = p_median(weights, sparse, p=2, cutoff=60.0, existing_distance=existing, mip_rel_gap=0)
    assert result.objective == pytest.approx(brute_pmedian(weights, dist, 2, cap=cap))
    assert result.before == pytest.approx(float((weights * cap).sum()))
    assert result.order_gain.sum() == pytest.approx(result.before - result.after)


def test_p_median_marginal_gain_is_cost_of_removal():
    rng = np.random.default_rng(2)
    dist = rng.random((20, 5)) * 10
    weights = np.ones(20)
    result = p_median(weights, dist, p=3)
    for j, loss in zip(result.chosen, result.marginal_gain, strict=True):
        others = [o for o in result.chosen if o != j]
        assert loss == pytest.approx(float(dist[:, others].min(axis=1).sum()) - result.objective)


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"k": 0}, "k", "not_positive"),
        ({"k": -2}, "k", "not_positive"),
        ({"k": 1.5}, "k", "not_integer"),
        ({"k": True}, "k", "not_integer"),
        ({}, "k", "k_or_budget"),
        ({"k": 1, "budget": 3.0, "costs": [1, 1, 1]}, "k", "k_or_budget"),
        ({"budget": 0.0, "costs": [1, 1, 1]}, "budget", "not_positive"),
        ({"budget": 2.0}, "costs", "required"),
        ({"budget": 2.0, "costs": [1, -1, 1]}, "costs", "negative"),
        ({"budget": 2.0, "costs": [1, 1]}, "costs", "shape"),
        ({"k": 1, "existing": [True, False]}, "existing", "shape"),
        ({"k": 1, "committed": [7]}, "committed", "out_of_range"),
        ({"k": 1, "method": "fast"}, "method", "unknown"),
        ({"k": 1, "mip_rel_gap": 1.5}, "mip_rel_gap", "out_of_range"),
    ],
)
def test_mclp_validation(kwargs, field, code):
    cover = np.eye(3, dtype=bool)
    with pytest.raises(SitingInputError) as error:
        maximal_covering(np.ones(3), cover, **kwargs)
    assert (error.value.field, error.value.code) == (field, code)


def test_weights_validation():
    cover = np.eye(3, dtype=bool)
    weight_cases: list[tuple[Any, str]] = [
        ([1, -1, 1], "negative"),
        ([1, 1], "shape"),
        ([1, np.nan, 1], "not_finite"),
    ]
    for weights, code in weight_cases:
        with pytest.raises(SitingInputError) as error:
            maximal_covering(weights, cover, k=1)
        assert (error.value.field, error.value.code) == ("weights", code)
    with pytest.raises(SitingInputError) as error:
        maximal_covering(np.ones(3), np.zeros((3, 0)), k=1)
    assert error.value.code == "no_candidates"


def test_p_median_validation():
    dist = np.ones((3, 2))
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"p": 0}, "p", "not_positive"),
        ({"p": 1, "cutoff": -1.0}, "cutoff", "not_positive"),
        ({"p": 1, "existing_distance": [1.0]}, "existing_distance", "shape"),
    ]
    for kwargs, field, code in cases:
        with pytest.raises(SitingInputError) as error:
            p_median(np.ones(3), dist, **kwargs)
        assert (error.value.field, error.value.code) == (field, code)
    with pytest.raises(SitingInputError) as error:
        p_median(np.ones(3), sp.csr_matrix(dist), p=1)
    assert (error.value.field, error.value.code) == ("cutoff", "required")
    with pytest.raises(SitingInputError) as error:
        p_median(np.ones(3), np.array([[1.0, np.inf]] * 3), p=1)
    assert (error.value.field, error.value.code) == ("distances", "not_finite")
    with pytest.raises(SitingInputError) as error:
        p_median(np.ones(2), dist, p=1)
    assert (error.value.field, error.value.code) == ("weights", "shape")


# --- Exact MCLP path: local-search start, Σ x = k, HiGHS heuristics off ---------------------


def _brute_solver(k):
    """Exact maximal covering by enumeration, for the local search's recombination step."""

    def solve(csc, weights, start):
        cover = csc.toarray() > 0
        best = max(
            itertools.combinations(range(cover.shape[1]), min(k, cover.shape[1])),
            key=lambda sites: covered(weights, cover, list(sites)),
        )
        return list(best)

    return solve


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 16), m=st.integers(2, 9), k=st.integers(1, 4))
def test_elite_search_returns_k_distinct_sites_never_worse_than_its_start(data, n, m, k):
    from linli.planning.engine import siting_greedy as greedy
    from linli.planning.engine.siting_search import WalkSettings, mclp_elite_search

    cover = np.array(
        data.draw(st.lists(st.lists(st.booleans(), min_size=m, max_size=m), min_size=n, max_size=n))
    )
    weights = np.array(data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), float)
    csc = sp.csc_matrix(cover.astype(np.int8))
    start = greedy.mclp_greedy(csc, weights, np.ones(m), k=k, budget=None)
    found = mclp_elite_search(
        csc,
        weights,
        start,
        k=k,
        exact=_brute_solver(k),
        settings=WalkSettings(iterations=20, stall=10),
    )
    assert len(found) == len(set(found)) == min(k, m)
    assert all(0 <= j < m for j in found)
    assert covered(weights, cover, start) <= covered(weights, cover, found)
    assert covered(weights, cover, found) <= brute_mclp(weights, cover, k)


def test_elite_sites_take_the_best_solutions_first_up_to_the_size():
    from linli.planning.engine.siting_search import elite_sites

    pool = {
        frozenset({0, 1}): 10.0,
        frozenset({2, 3}): 9.0,
        frozenset({1, 4}): 8.0,
        frozenset({5, 6}): 7.0,
    }
    assert elite_sites(pool, size=2) == [0, 1]
    assert elite_sites(pool, size=4) == [0, 1, 2, 3]
    assert elite_sites(pool, size=5) == [0, 1, 2, 3, 4]
    assert elite_sites(pool, size=1) == [0, 1]  # never fewer than the best solution's sites


def test_recombining_two_half_right_solutions_finds_the_whole():
    # Two neighbourhoods, each solution gets one right: the recombined set takes the good
    # site of each, better than either.
    from linli.planning.engine.siting_search import recombine

    cover = np.array(
        [
            [1, 0, 0, 0],  # neighbourhood A: site 0 covers 10, site 1 covers 4
            [1, 1, 0, 0],
            [0, 0, 1, 1],  # neighbourhood B: site 3 covers 10, site 2 covers 4
            [0, 0, 0, 1],
        ]
    )
    weights = np.array([6.0, 4.0, 4.0, 6.0])
    pool = {frozenset({0, 2}): 14.0, frozenset({1, 3}): 14.0}
    csc = sp.csc_matrix(cover.astype(np.int8))
    assert recombine(csc, weights, pool, _brute_solver(2), size=4) == [0, 3]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k", [2, 4])
def test_mclp_exact_with_many_candidates_equals_brute_force(seed, k):
    # More candidates than k, some useless: the exact path runs the local search and the
    # MIP with Σ x = k (zero-gain sites pad the set), at gap 0 and at the default gap.
    weights, cover = instance(seed, n=50, m=12, density=0.2)
    cover[:, -1] = False  # a candidate that covers nothing
    best = brute_mclp(weights, cover, k)
    exact = maximal_covering(weights, sp.csr_matrix(cover), k=k, mip_rel_gap=0.0)
    assert exact.objective == best
    assert exact.bound == pytest.approx(best, rel=1e-9)
    assert len(exact.chosen) <= k
    default = maximal_covering(weights, sp.csr_matrix(cover), k=k)
    assert best * (1 - 1e-3) <= default.objective <= best <= default.bound
    assert default.gap <= 1e-3


def test_mclp_exact_bound_is_proven_on_a_dense_city():
    # A small dense instance in the benchmark's shape: the reported bound must not be below
    # the brute-force optimum and the gap must be within the requested one.
    rng = np.random.default_rng(7)
    demand = rng.uniform(0, 3000, size=(120, 2))
    sites = rng.uniform(0, 3000, size=(14, 2))
    cover = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)) <= 900
    weights = np.round(rng.lognormal(4.5, 0.8, size=120))
    best = brute_mclp(weights, cover, 3)
    result = maximal_covering(weights, sp.csr_matrix(cover), k=3, mip_rel_gap=1e-3)
    assert result.bound >= best >= result.objective >= best * (1 - 1e-3)
    assert result.objective == covered(weights, cover, result.chosen)


def test_a_solve_prints_nothing_on_stdout():
    """HiGHS prints a banner when a process makes its first solver: a command's stdout
    (a table, a CSV) must not carry it."""
    import subprocess
    import sys

    script = (
        "import numpy as np\n"
        "from linli.planning.engine.siting import maximal_covering\n"
        "maximal_covering(np.ones(3), np.eye(3, dtype=bool), k=2, method='exact')\n"
    )
    done = subprocess.run(  # noqa: S603  (this interpreter, a fixed script)
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout == ""
