"""Two ways to give requests to responders: all at once at minimum cost, or greedily.

The optimal solver is a rectangular assignment: each responder becomes as many
columns ("slots") as tasks it can still take, the k-th slot costing k more
tasks of load; each request also gets one private column that means "nobody",
priced at its priority times `Problem.unserved_cost`. Every request is then
matched to exactly one column at minimum total cost, which SciPy's sparse
Jonker–Volgenant solver (`min_weight_full_bipartite_matching`, LAPJVsp) does
on the eligible pairs only: the dense matrix for 10,000 requests and 6,000
slots would be 480 MB of mostly "impossible". Slot costs rise with k, so a
responder's slots fill from the first, and the load part of the cost is the
real one.

The greedy solver is the comparison: most pressing request first, each takes
its cheapest candidate with room left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

# SciPy ships no type stubs, and scipy-stubs is not a dependency.
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from .problem import LOAD_KM, Problem


@dataclass
class Plan:
    """Who serves what: `pairs` index the problem's pairs; `slot` is how many tasks the
    same responder took earlier in this plan (its load grew by that much)."""

    method: str
    pairs: np.ndarray  # int64, in request order
    slot: np.ndarray  # int64
    cost: np.ndarray  # each pair's cost at its slot
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.pairs)


@dataclass(frozen=True)
class Score:
    """How good a plan is: what it served, at what priority-weighted cost."""

    served: int
    servable: int
    priority_served: int
    cost: float  # Σ priority × cost over what was served
    unserved_penalty: float  # Σ priority × unserved cost over servable requests left
    mean_km: float

    @property
    def objective(self) -> float:
        """What the optimal solver minimises; greedy's is never lower."""
        return self.cost + self.unserved_penalty


def score(problem: Problem, plan: Plan) -> Score:
    q = problem.pair_q[plan.pairs]
    weight = problem.requests.weight
    left = problem.servable.copy()
    left[q] = False
    return Score(
        served=len(plan),
        servable=int(problem.servable.sum()),
        priority_served=int(problem.requests.priority[q].sum()),
        cost=float((weight[q] * plan.cost).sum()),
        unserved_penalty=float(weight[left].sum() * problem.unserved_cost),
        mean_km=float(problem.distance_km[plan.pairs].mean()) if len(plan) else 0.0,
    )


def _plan(method: str, problem: Problem, pairs: np.ndarray, slot: np.ndarray, began: float) -> Plan:
    order = np.argsort(problem.pair_q[pairs], kind="stable")
    pairs, slot = pairs[order], slot[order]
    return Plan(
        method=method,
        pairs=pairs,
        slot=slot,
        cost=problem.slot_cost(pairs, slot),
        seconds=time.perf_counter() - began,
    )


def plan_optimal(problem: Problem) -> Plan:
    """The minimum-cost assignment of all requests at once, within every capacity."""
    began = time.perf_counter()
    nq, npairs = len(problem.requests), len(problem.pair_q)
    empty = np.zeros(0, dtype=np.int64)
    if not npairs:
        return _plan("optimal", problem, empty, empty, began)
    responders = problem.responders
    # A responder never needs more slots than it has candidate requests.
    degree = np.bincount(problem.pair_r, minlength=len(responders))
    slots = np.minimum(responders.free, degree)
    first_column = np.concatenate(([0], np.cumsum(slots)[:-1]))
    columns = int(slots.sum())
    repeat = slots[problem.pair_r]
    edge_pair = np.repeat(np.arange(npairs), repeat)
    edge_slot = np.arange(len(edge_pair)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    edge_q = problem.pair_q[edge_pair]
    weight = problem.requests.weight
    edge_cost = weight[edge_q] * (
        problem.cost[edge_pair] + LOAD_KM * edge_slot / responders.cap[problem.pair_r[edge_pair]]
    )
    # Each request's own "nobody" column.
    rows = np.concatenate((edge_q, np.arange(nq)))
    cols = np.concatenate(
        (first_column[problem.pair_r[edge_pair]] + edge_slot, columns + np.arange(nq))
    )
    # The solver reads a stored zero as "no edge": shift every weight by one. Every
    # request takes exactly one column, so the shift adds nq to every solution alike.
    data = np.concatenate((edge_cost, weight * problem.unserved_cost)) + 1.0
    matrix = csr_matrix((data, (rows, cols)), shape=(nq, columns + nq))
    matched_q, matched_column = min_weight_full_bipartite_matching(matrix)
    served = matched_column < columns
    matched_q, matched_column = matched_q[served], matched_column[served]
    # Back from (request, column) to the pair and the slot. Responders without slots
    # share their first column with the next one; side="right" skips them.
    responder = np.searchsorted(first_column, matched_column, side="right") - 1
    slot = matched_column - first_column[responder]
    codes = problem.pair_q * len(responders) + problem.pair_r
    by_code = np.argsort(codes)
    found = np.searchsorted(codes, matched_q * len(responders) + responder, sorter=by_code)
    pairs = by_code[found]
    return _plan("optimal", problem, pairs.astype(np.int64), slot.astype(np.int64), began)


def plan_greedy(problem: Problem) -> Plan:
    """Most pressing request first, each takes its cheapest candidate with room left."""
    began = time.perf_counter()
    responders = problem.responders
    taken = np.zeros(len(responders), dtype=np.int64)
    free = responders.free
    cost, indptr = problem.cost, problem.indptr
    chosen: list[int] = []
    slots: list[int] = []
    for q in range(len(problem.requests)):
        low, high = indptr[q], indptr[q + 1]
        if low == high:
            continue
        r = problem.pair_r[low:high]
        here = cost[low:high] + LOAD_KM * taken[r] / responders.cap[r]
        here[taken[r] >= free[r]] = np.inf
        best = int(np.argmin(here))  # the first of equals: pairs are sorted by cost, then index
        if not np.isfinite(here[best]):
            continue
        chosen.append(low + best)
        slots.append(int(taken[r[best]]))
        taken[r[best]] += 1
    return _plan(
        "greedy",
        problem,
        np.array(chosen, dtype=np.int64),
        np.array(slots, dtype=np.int64),
        began,
    )
