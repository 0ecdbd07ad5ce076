"""Where to build next: maximal covering, set covering and p-median on arrays.

Pure numpy/scipy/highspy, no Django (CONVENTIONS #12). The caller computes the demand
weights (population weighted by priority groups), the coverage relation (demand × candidate,
within a radius, over the network or straight-line) or the distance matrix, and passes the
always-open sites as what they already cover (`existing`) or as candidate columns that are
already committed (`committed`, e.g. funded participatory-budget projects: open, free, and
not counted against k or the budget).

Every problem is reduced before it is solved (siting_reduce.py): the reduced model has the
same optimum, and the chosen sites, objective and marginal gains are recomputed on the
original arrays, so the reductions can never change what a planner is told.

Errors on bad input are `SitingInputError` with the field, a stable code and an English
message; the service layer turns them into translated `ValidationFailed` errors.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from . import siting_greedy as greedy
from . import siting_mip as mip
from . import siting_search as search
from .siting_reduce import (
    ReductionStats,
    canonical_csr,
    dominated_columns,
    dominated_rows,
    group_identical_rows,
    merge_rows,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Method = Literal["exact", "heuristic"]
Problem = Literal["mclp", "lscp", "p_median"]

DEFAULT_MIP_REL_GAP = 1e-3
# The local search's recombination step solves a sub-problem of a few dozen sites to (near)
# optimality: cheap at that size, and a start 0.05 % below the optimum costs the full MIP a
# tree of dozens of nodes where the optimum costs one.
SUB_MIP_REL_GAP = 1e-5


class SitingInputError(ValueError):
    """Bad arrays or parameters. `field` names the argument, `code` is stable."""

    def __init__(self, field: str, code: str, message: str) -> None:
        self.field = field
        self.code = code
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class SitingResult:
    """One siting answer.

    `chosen` lists new sites (original candidate indices) in greedy order: each adds the
    most given the existing sites and the ones before it; `order_gain` is that addition and
    sums to `after - before` (coverage) or `before - after` (p-median). `marginal_gain` is
    what each site alone contributes given all the others: weight covered by it and by no
    other chosen or existing site (coverage), or the rise in Σ w·distance if it were
    removed (p-median).

    `before`/`after`: covered weight with existing sites only / with the chosen ones too
    (MCLP, LSCP), total weighted distance (p-median; inf before if nothing exists and no
    cutoff bounds it). `objective`: covered weight (MCLP), number of sites or their total
    cost (LSCP), total weighted distance (p-median). `bound` is a proven bound on the best
    objective (upper for MCLP, lower for LSCP and p-median; nan when none was computed) and
    `gap` = |bound − objective| / |objective|.
    """

    problem: Problem
    method: Literal["exact", "greedy+swap"]
    chosen: IntArray
    objective: float
    bound: float
    gap: float
    seconds: float
    marginal_gain: FloatArray
    order_gain: FloatArray
    before: float
    after: float
    total_weight: float
    cost: float
    uncoverable: IntArray
    status: str
    reduction: ReductionStats = field(default_factory=ReductionStats)

    @property
    def covered_before(self) -> float:
        return self.before

    @property
    def covered_after(self) -> float:
        return self.after


# --- Validation ----------------------------------------------------------------------------


def _weights(weights: npt.ArrayLike | None, n: int, name: str = "weights") -> FloatArray:
    if weights is None:
        return np.ones(n, dtype=np.float64)
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SitingInputError(name, "not_numeric", "must be numbers") from exc
    if w.ndim != 1 or w.shape[0] != n:
        raise SitingInputError(
            name, "shape", f"must be a vector of {n} values, one per demand point; got {w.shape}"
        )
    if not np.isfinite(w).all():
        raise SitingInputError(name, "not_finite", "must be finite numbers")
    if (w < 0).any():
        raise SitingInputError(name, "negative", "must not be negative")
    return w


def _cover(cover: object) -> sp.csr_matrix:
    if sp.issparse(cover):
        csr = sp.csr_matrix(cover, dtype=np.float64)
    else:
        try:
            dense = np.asarray(cover, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SitingInputError("cover", "not_matrix", "must be a 0/1 matrix") from exc
        if dense.ndim != 2:
            raise SitingInputError("cover", "shape", "must be a demand × candidate matrix")
        csr = sp.csr_matrix(dense)
    if csr.shape[1] == 0:
        raise SitingInputError("cover", "no_candidates", "has no candidate columns")
    if csr.nnz and (not np.isfinite(csr.data).all() or (csr.data < 0).any()):
        raise SitingInputError("cover", "not_boolean", "must be a 0/1 (boolean) matrix")
    return canonical_csr(csr)


def _k(k: object, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise SitingInputError(name, "not_integer", "must be a whole number of sites")
    if int(k) <= 0:
        raise SitingInputError(name, "not_positive", "must be at least 1")
    return int(k)


def _budget(budget: object) -> float:
    try:
        value = float(budget)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise SitingInputError("budget", "not_numeric", "must be a number") from exc
    if not math.isfinite(value) or value <= 0:
        raise SitingInputError("budget", "not_positive", "must be a positive amount")
    return value


def _costs(costs: npt.ArrayLike | None, m: int, *, required: bool) -> FloatArray:
    if costs is None:
        if required:
            raise SitingInputError("costs", "required", "are needed with a budget")
        return np.ones(m, dtype=np.float64)
    try:
        c = np.asarray(costs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SitingInputError("costs", "not_numeric", "must be numbers") from exc
    if c.ndim != 1 or c.shape[0] != m:
        raise SitingInputError(
            "costs", "shape", f"must be a vector of {m} values, one per candidate; got {c.shape}"
        )
    if not np.isfinite(c).all() or (c < 0).any():
        raise SitingInputError("costs", "negative", "must be finite and not negative")
    return c


def _existing(existing: npt.ArrayLike | None, n: int) -> BoolArray:
    if existing is None:
        return np.zeros(n, dtype=bool)
    e = np.array(existing)  # a copy: committed sites are marked on it, not on the caller
    if e.ndim != 1 or e.shape[0] != n:
        raise SitingInputError(
            "existing",
            "shape",
            f"must be a vector of {n} values (is each demand point covered already); got {e.shape}",
        )
    if e.dtype != bool:
        if not np.isin(e, (0, 1)).all():
            raise SitingInputError("existing", "not_boolean", "must be true/false per point")
        e = e.astype(bool)
    return e


def _committed(committed: Sequence[int] | npt.ArrayLike, m: int) -> IntArray:
    c = np.asarray(committed if committed is not None else [], dtype=np.float64).ravel()
    if c.size and (not np.isfinite(c).all() or (c != np.round(c)).any()):
        raise SitingInputError("committed", "not_integer", "must be candidate indices")
    idx = np.unique(c.astype(np.int64))
    if idx.size and (idx.min() < 0 or idx.max() >= m):
        raise SitingInputError("committed", "out_of_range", f"must be indices in 0..{m - 1}")
    return idx


def _method(method: str) -> Method:
    if method not in ("exact", "heuristic"):
        raise SitingInputError("method", "unknown", "must be 'exact' or 'heuristic'")
    return method  # type: ignore[return-value]


def _gap_option(mip_rel_gap: float, time_limit: float | None) -> None:
    if not (0.0 <= float(mip_rel_gap) < 1.0):
        raise SitingInputError("mip_rel_gap", "out_of_range", "must be in [0, 1)")
    if time_limit is not None and not (float(time_limit) > 0):
        raise SitingInputError("time_limit", "not_positive", "must be a positive number of s")


def _rel_gap(objective: float, bound: float) -> float:
    if math.isnan(bound):
        return math.nan
    if abs(bound - objective) <= 1e-9 * max(abs(objective), 1.0):
        return 0.0
    return abs(bound - objective) / max(abs(objective), 1e-12)


# --- Coverage bookkeeping on the original arrays -------------------------------------------


def _coverage_report(
    a_csc: sp.csc_matrix, w: FloatArray, base: BoolArray, chosen: Sequence[int]
) -> tuple[IntArray, FloatArray, FloatArray, float]:
    """Greedy order, order gains and unique (marginal) gains of `chosen`, and covered after."""
    count = base.astype(np.int64)
    rows_of = {int(j): a_csc.indices[a_csc.indptr[j] : a_csc.indptr[j + 1]] for j in chosen}
    for rows in rows_of.values():
        count[rows] += 1
    marginal = {j: float(w[rows[count[rows] == 1]].sum()) for j, rows in rows_of.items()}
    covered = base.copy()
    left = list(rows_of)
    order: list[int] = []
    gains: list[float] = []
    while left:
        values = [float(w[rows_of[j][~covered[rows_of[j]]]].sum()) for j in left]
        pick = int(np.argmax(values))
        j = left.pop(pick)
        order.append(j)
        gains.append(values[pick])
        covered[rows_of[j]] = True
    return (
        np.asarray(order, dtype=np.int64),
        np.asarray(gains, dtype=np.float64),
        np.asarray([marginal[j] for j in order], dtype=np.float64),
        float(w[covered].sum()),
    )


def _split_rows_cols(
    a: sp.csr_matrix,
    w: FloatArray,
    base: BoolArray,
    col_ok: BoolArray,
    stats: ReductionStats,
) -> tuple[sp.csr_matrix, FloatArray, IntArray, IntArray]:
    """Drop demand that is already covered, weightless or coverable by no candidate, and
    columns that are not eligible; returns the sub-matrix, its weights, the uncoverable
    demand (original indices) and the kept columns (original indices)."""
    cols = np.flatnonzero(col_ok)
    sub = a[:, cols].tocsr() if cols.size < a.shape[1] else a
    reach = np.diff(sub.indptr) > 0
    uncoverable = np.flatnonzero(~base & ~reach & (w > 0)).astype(np.int64)
    keep = ~base & reach & (w > 0)
    stats.demand_zero_weight = int(((w == 0) & ~base).sum())
    stats.demand_already_covered = int(base.sum())
    stats.demand_uncoverable = int(uncoverable.size)
    return canonical_csr(sub[keep]), w[keep], uncoverable, cols.astype(np.int64)


def _drop_columns(
    b: sp.csr_matrix, cols: IntArray, keep: BoolArray
) -> tuple[sp.csr_matrix, IntArray]:
    return canonical_csr(b[:, np.flatnonzero(keep)]), cols[keep]


def _reduce_mclp(
    b: sp.csr_matrix,
    weight: FloatArray,
    cols: IntArray,
    cost: FloatArray,
    stats: ReductionStats,
) -> tuple[sp.csr_matrix, FloatArray, IntArray]:
    """Merge identical demand rows and drop empty or dominated candidates, to a fixpoint
    (dropping a column can make two rows identical)."""
    while True:
        if b.shape[0]:
            b, weight, _ = merge_rows(b, weight)
        sizes = np.diff(sp.csc_matrix(b).indptr)
        empty = sizes == 0
        stats.candidates_useless += int(empty.sum())
        b, cols = _drop_columns(b, cols, ~empty)
        dominated = dominated_columns(b, cost[cols])
        if not dominated.any():
            break
        stats.candidates_dominated += int(dominated.sum())
        b, cols = _drop_columns(b, cols, ~dominated)
    return b, weight, cols


# --- Maximal covering ----------------------------------------------------------------------


def maximal_covering(
    weights: npt.ArrayLike,
    cover: object,
    *,
    k: int | None = None,
    budget: float | None = None,
    costs: npt.ArrayLike | None = None,
    existing: npt.ArrayLike | None = None,
    committed: Sequence[int] | npt.ArrayLike = (),
    method: str = "exact",
    mip_rel_gap: float = DEFAULT_MIP_REL_GAP,
    time_limit: float | None = None,
    reduce: bool = True,
    warm_start: bool = True,
) -> SitingResult:
    """Choose at most k new sites (or sites within a budget) covering the most weight.

    Model (on the reduced groups g and candidates j): max Σ W_g y_g s.t. y_g ≤ Σ_{j∈N(g)} x_j,
    Σ x_j ≤ k (or Σ c_j x_j ≤ B), x binary, 0 ≤ y ≤ 1 (y is integral at an optimum).
    """
    started = time.perf_counter()
    a = _cover(cover)
    n, m = a.shape
    w = _weights(weights, n)
    if (k is None) == (budget is None):
        raise SitingInputError("k", "k_or_budget", "give either k or a budget, not both")
    k_val = _k(k) if k is not None else None
    budget_val = _budget(budget) if budget is not None else None
    cost = _costs(costs, m, required=budget_val is not None)
    run_method = _method(method)
    _gap_option(mip_rel_gap, time_limit)
    fixed = _committed(committed, m)
    a_csc = sp.csc_matrix(a)
    base = _existing(existing, n)
    for j in fixed:
        base[a_csc.indices[a_csc.indptr[j] : a_csc.indptr[j + 1]]] = True

    stats = ReductionStats(demand_in=n, candidates_in=m, candidates_committed=int(fixed.size))
    col_ok = np.ones(m, dtype=bool)
    col_ok[fixed] = False
    if budget_val is not None:
        over = col_ok & (cost > budget_val)
        stats.candidates_useless += int(over.sum())
        col_ok &= ~over
    b, weight, uncoverable, cols = _split_rows_cols(a, w, base, col_ok, stats)
    if reduce:
        b, weight, cols = _reduce_mclp(b, weight, cols, cost, stats)
    stats.demand_groups = int(b.shape[0])
    stats.candidates_kept = int(cols.size)
    stats.seconds = time.perf_counter() - started
    bc = sp.csc_matrix(b)
    cc = cost[cols]
    constant = float(w[base].sum())

    status = "trivial"
    everything = (k_val is not None and cols.size <= k_val) or (
        budget_val is not None and float(cc.sum()) <= budget_val
    )
    if everything:
        picked = list(range(cols.size))
        bound_red = float(weight.sum())
    else:
        picked = greedy.mclp_greedy(bc, weight, cc, k=k_val, budget=budget_val)
        picked = greedy.mclp_swap(bc, weight, cc, picked, k=k_val, budget=budget_val)
        bound_red = greedy.mclp_upper_bound(bc, weight, cc, picked, k=k_val, budget=budget_val)
        status = "heuristic"
        if run_method == "exact" and warm_start and k_val is not None:
            # A near-optimal start is what lets HiGHS prove the gap quickly (siting_search).
            picked = search.mclp_elite_search(
                bc, weight, picked, k=k_val, exact=_sub_mclp_solver(k_val, time_limit)
            )
            bound_red = min(
                bound_red,
                greedy.mclp_upper_bound(bc, weight, cc, picked, k=k_val, budget=budget_val),
            )
        if run_method == "exact" and bound_red > _covered(bc, weight, picked) * (1 + 1e-12):
            picked, bound_red, status = _mclp_exact(
                bc,
                weight,
                cc,
                picked,
                k=k_val,
                budget=budget_val,
                mip_rel_gap=mip_rel_gap,
                time_limit=time_limit,
                warm_start=warm_start,
            )
        elif run_method == "exact":
            status = "optimal (greedy met the bound)"
    chosen = cols[np.asarray(picked, dtype=np.int64)] if picked else np.zeros(0, np.int64)
    order, order_gain, marginal, after = _coverage_report(a_csc, w, base, chosen.tolist())
    bound = min(constant + bound_red, float(w.sum()))
    bound = max(bound, after)
    return SitingResult(
        problem="mclp",
        method="exact" if run_method == "exact" else "greedy+swap",
        chosen=order,
        objective=after,
        bound=bound,
        gap=_rel_gap(after, bound),
        seconds=time.perf_counter() - started,
        marginal_gain=marginal,
        order_gain=order_gain,
        before=constant,
        after=after,
        total_weight=float(w.sum()),
        cost=float(cost[order].sum()),
        uncoverable=uncoverable,
        status=status,
        reduction=stats,
    )


def _covered(csc: sp.csc_matrix, weight: FloatArray, picked: Sequence[int]) -> float:
    covered = np.zeros(csc.shape[0], dtype=bool)
    for j in picked:
        covered[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]] = True
    return float(weight[covered].sum())


def _sub_mclp_solver(k: int, time_limit: float | None) -> search.ExactSolver:
    """Exact maximal covering with k sites on a sub-problem (the local search's elite sites):
    a small model, so a tight gap costs little and its answer is a start worth having."""

    def solve(csc: sp.csc_matrix, weight: FloatArray, start: list[int]) -> list[int]:
        cost = np.ones(csc.shape[1])
        picked, _, _ = _mclp_exact(
            csc,
            weight,
            cost,
            start,
            k=k,
            budget=None,
            mip_rel_gap=SUB_MIP_REL_GAP,
            time_limit=time_limit,
            warm_start=True,
        )
        return picked

    return solve


def _mclp_exact(
    bc: sp.csc_matrix,
    weight: FloatArray,
    cost: FloatArray,
    start: list[int],
    *,
    k: int | None,
    budget: float | None,
    mip_rel_gap: float,
    time_limit: float | None,
    warm_start: bool,
) -> tuple[list[int], float, str]:
    n_groups, n_cols = bc.shape
    # Columns: x_0..x_{m-1} (sites), then y_0..y_{G-1} (group covered).
    link = sp.hstack([-bc, sp.identity(n_groups, format="csc")], format="csc")
    limit_row = sp.csr_matrix(
        np.concatenate([cost if budget is not None else np.ones(n_cols), np.zeros(n_groups)])
    )
    matrix = sp.vstack([link, limit_row], format="csc")
    start_vec = None
    if warm_start:
        x = np.zeros(n_cols)
        x[start] = 1.0
        y = np.minimum(np.asarray(bc @ x).ravel(), 1.0)
        start_vec = np.concatenate([x, y])
    limit = float(budget if budget else k or 0)
    options: dict[str, bool | int | float | str] = {}
    if k is not None:
        # Σ x = k instead of ≤ k: opening one more site never uncovers anything, so some
        # optimum uses all k (there are more than k candidates here); the equality gives
        # HiGHS a tighter LP face to branch on.
        limit_lower = float(k)
        if warm_start:
            # The start comes from the iterated local search and is usually optimal or
            # within a few 0.01 % of it: HiGHS' own primal heuristics (sub-MIPs, RINS, RENS,
            # feasibility jump) then cost most of the time and find nothing better, and
            # restarts redo the root. What is left is the proof: root cuts, reduced-cost
            # fixing against the start, strong branching. The bound is proven all the same.
            options = {
                "mip_heuristic_effort": 0.0,
                "mip_heuristic_run_rins": False,
                "mip_heuristic_run_rens": False,
                "mip_heuristic_run_root_reduced_cost": False,
                "mip_heuristic_run_feasibility_jump": False,
                "mip_allow_restart": False,
            }
    else:
        limit_lower = -np.inf
    outcome = mip.solve(
        matrix=matrix,
        cost=np.concatenate([np.zeros(n_cols), weight]),
        col_lower=np.zeros(n_cols + n_groups),
        col_upper=np.ones(n_cols + n_groups),
        row_lower=np.concatenate([np.full(n_groups, -np.inf), [limit_lower]]),
        row_upper=np.concatenate([np.zeros(n_groups), [limit]]),
        integer=np.concatenate([np.ones(n_cols, bool), np.zeros(n_groups, bool)]),
        maximize=True,
        start=start_vec,
        mip_rel_gap=mip_rel_gap,
        time_limit=time_limit,
        options=options,
    )
    picked = [int(j) for j in np.flatnonzero(outcome.values[:n_cols] > 0.5)]
    if _covered(bc, weight, picked) < _covered(bc, weight, start):
        picked = start  # never worse than the start (e.g. a time limit hit early)
    return picked, outcome.bound, outcome.status.lower()


# --- Set covering --------------------------------------------------------------------------


def set_covering(
    cover: object,
    *,
    weights: npt.ArrayLike | None = None,
    costs: npt.ArrayLike | None = None,
    existing: npt.ArrayLike | None = None,
    committed: Sequence[int] | npt.ArrayLike = (),
    method: str = "exact",
    mip_rel_gap: float = 0.0,
    time_limit: float | None = None,
    reduce: bool = True,
    lp_bound: bool = True,
) -> SitingResult:
    """Cover every coverable demand point (weight > 0) with the fewest sites or least cost.

    Demand no candidate and no existing site covers is reported in `uncoverable`, not an
    error. Model: min Σ c_j x_j s.t. Σ_{j∈N(g)} x_j ≥ 1 for every reduced row g.
    """
    started = time.perf_counter()
    a = _cover(cover)
    n, m = a.shape
    w = _weights(weights, n)
    cost = _costs(costs, m, required=False)
    run_method = _method(method)
    _gap_option(mip_rel_gap, time_limit)
    fixed = _committed(committed, m)
    a_csc = sp.csc_matrix(a)
    base = _existing(existing, n)
    for j in fixed:
        base[a_csc.indices[a_csc.indptr[j] : a_csc.indptr[j + 1]]] = True
    stats = ReductionStats(demand_in=n, candidates_in=m, candidates_committed=int(fixed.size))
    col_ok = np.ones(m, dtype=bool)
    col_ok[fixed] = False
    b, weight, uncoverable, cols = _split_rows_cols(a, w, base, col_ok, stats)
    if reduce and b.shape[0]:
        b, weight, _ = merge_rows(b, weight)
        while True:
            implied = dominated_rows(b)
            stats.demand_rows_dominated += int(implied.sum())
            if implied.any():
                b = canonical_csr(b[np.flatnonzero(~implied)])
                weight = weight[~implied]
            empty = np.diff(sp.csc_matrix(b).indptr) == 0
            stats.candidates_useless += int(empty.sum())
            b, cols = _drop_columns(b, cols, ~empty)
            dominated = dominated_columns(b, cost[cols])
            stats.candidates_dominated += int(dominated.sum())
            b, cols = _drop_columns(b, cols, ~dominated)
            if not implied.any() and not dominated.any():
                break
            b, weight, _ = merge_rows(b, weight)
    elif b.shape[0]:
        empty = np.diff(sp.csc_matrix(b).indptr) == 0
        b, cols = _drop_columns(b, cols, ~empty)
    stats.demand_groups = int(b.shape[0])
    stats.candidates_kept = int(cols.size)
    stats.seconds = time.perf_counter() - started
    bc = sp.csc_matrix(b)
    cc = cost[cols]

    bound = 0.0
    status = "trivial"
    picked: list[int] = []
    if b.shape[0]:
        picked = greedy.lscp_greedy(bc, cc)
        status = "heuristic"
        bound = math.nan
        rows = b.shape[0]
        matrix = bc
        if run_method == "exact" or lp_bound:
            outcome = mip.solve(
                matrix=matrix,
                cost=cc,
                col_lower=np.zeros(cols.size),
                col_upper=np.ones(cols.size),
                row_lower=np.ones(rows),
                row_upper=np.full(rows, np.inf),
                integer=np.ones(cols.size, dtype=bool),
                maximize=False,
                start=_start_vector(picked, cols.size),
                mip_rel_gap=mip_rel_gap,
                time_limit=time_limit,
                relax=run_method != "exact",
            )
            bound = outcome.bound
            if run_method == "exact":
                status = outcome.status.lower()
                solved = [int(j) for j in np.flatnonzero(outcome.values > 0.5)]
                if _all_covered(bc, solved) and cc[solved].sum() <= cc[picked].sum():
                    picked = solved
            else:
                status = "heuristic (LP bound)"
    chosen = cols[np.asarray(picked, dtype=np.int64)] if picked else np.zeros(0, np.int64)
    order, order_gain, marginal, after = _coverage_report(a_csc, w, base, chosen.tolist())
    objective = float(cost[order].sum())
    if not math.isnan(bound):
        bound = min(bound, objective)
    return SitingResult(
        problem="lscp",
        method="exact" if run_method == "exact" else "greedy+swap",
        chosen=order,
        objective=objective,
        bound=bound,
        gap=_rel_gap(objective, bound) if objective > 0 else 0.0,
        seconds=time.perf_counter() - started,
        marginal_gain=marginal,
        order_gain=order_gain,
        before=float(w[base].sum()),
        after=after,
        total_weight=float(w.sum()),
        cost=objective,
        uncoverable=uncoverable,
        status=status,
        reduction=stats,
    )


def _start_vector(picked: Sequence[int], size: int) -> FloatArray:
    x = np.zeros(size, dtype=np.float64)
    x[list(picked)] = 1.0
    return x


def _all_covered(csc: sp.csc_matrix, picked: Sequence[int]) -> bool:
    covered = np.zeros(csc.shape[0], dtype=bool)
    for j in picked:
        covered[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]] = True
    return bool(covered.all())


# --- p-median ------------------------------------------------------------------------------


def _distances(distances: object, cutoff: float | None) -> tuple[sp.csr_matrix, float]:
    """Distances as CSR of the entries that matter, plus the distance of a missing entry.

    Dense input: every entry is a distance (inf allowed only with a cutoff). Sparse input is
    "sparse with cutoff": a missing entry means farther than the cutoff, which is required.
    Stored zeros in sparse input are real zero distances (a candidate on the point).
    """
    if cutoff is not None:
        try:
            cutoff = float(cutoff)
        except (TypeError, ValueError) as exc:
            raise SitingInputError("cutoff", "not_numeric", "must be a number") from exc
        if not (cutoff > 0) or math.isnan(cutoff):
            raise SitingInputError("cutoff", "not_positive", "must be a positive distance")
    if sp.issparse(distances):
        if cutoff is None:
            raise SitingInputError("cutoff", "required", "is needed with a sparse distance matrix")
        csr = sp.csr_matrix(distances, dtype=np.float64)
        csr.sum_duplicates()
        data = csr.data
    else:
        try:
            dense = np.asarray(distances, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SitingInputError("distances", "not_numeric", "must be numbers") from exc
        if dense.ndim != 2:
            raise SitingInputError("distances", "shape", "must be a demand × candidate matrix")
        if np.isnan(dense).any():
            raise SitingInputError("distances", "not_finite", "must not contain NaN")
        if cutoff is None and not np.isfinite(dense).all():
            raise SitingInputError(
                "distances", "not_finite", "may contain infinity only when a cutoff is given"
            )
        rows, cols = np.nonzero(np.isfinite(dense) if cutoff is None else dense < cutoff)
        data = dense[rows, cols]
        csr = sp.csr_matrix((data, (rows, cols)), shape=dense.shape)
        csr.sort_indices()
        # Explicit zeros must stay: csr_matrix keeps them when built from triplets.
        data = csr.data
    if csr.shape[1] == 0:
        raise SitingInputError("distances", "no_candidates", "has no candidate columns")
    if data.size and (np.isnan(data).any() or (data < 0).any()):
        raise SitingInputError("distances", "negative", "must be non-negative numbers")
    csr.sort_indices()
    return csr, (cutoff if cutoff is not None else math.inf)


def _weighted_sum(w: FloatArray, distance: FloatArray) -> float:
    """Σ w·d where a weightless point counts 0 even at infinite distance."""
    positive = w > 0
    return float(np.sum(w[positive] * distance[positive]))


def _pm_report(
    d_csc: sp.csc_matrix, w: FloatArray, fallback: FloatArray, chosen: Sequence[int]
) -> tuple[IntArray, FloatArray, FloatArray, float]:
    """Greedy order, order gains and removal costs of `chosen`, and Σ w·distance after."""
    reach = fallback.copy()
    left = [int(j) for j in chosen]
    order: list[int] = []
    gains: list[float] = []

    def entries(j: int) -> tuple[IntArray, FloatArray]:
        lo, hi = d_csc.indptr[j], d_csc.indptr[j + 1]
        return d_csc.indices[lo:hi].astype(np.int64), d_csc.data[lo:hi]

    with np.errstate(invalid="ignore"):  # inf - inf for points nothing reaches yet
        while left:
            values = []
            for j in left:
                r, d = entries(j)
                values.append(float((w[r] * np.maximum(reach[r] - d, 0.0)).sum()))
            pick = int(np.argmax(values))
            j = left.pop(pick)
            r, d = entries(j)
            order.append(j)
            gains.append(values[pick])
            reach[r] = np.minimum(reach[r], d)
        after = _weighted_sum(w, reach)
        marginal: list[float] = []
        for j in order:
            others = fallback.copy()
            for o in order:
                if o != j:
                    r, d = entries(o)
                    others[r] = np.minimum(others[r], d)
            marginal.append(_weighted_sum(w, others) - after)
    return (
        np.asarray(order, dtype=np.int64),
        np.asarray(gains, dtype=np.float64),
        np.asarray(marginal, dtype=np.float64),
        after,
    )


def p_median(
    weights: npt.ArrayLike,
    distances: object,
    *,
    p: int,
    existing_distance: npt.ArrayLike | None = None,
    cutoff: float | None = None,
    committed: Sequence[int] | npt.ArrayLike = (),
    method: str = "exact",
    mip_rel_gap: float = DEFAULT_MIP_REL_GAP,
    time_limit: float | None = None,
    lp_bound: bool = True,
    max_exact_entries: int = 400_000,
) -> SitingResult:
    """Open at most p new sites minimising Σ w_i · distance to the nearest open site.

    With a cutoff, distances are capped at it (a point farther than the cutoff from every
    open site counts as the cutoff); existing sites enter as each point's distance to the
    nearest one. Model: min Σ W_g d_gj z_gj + Σ W_g cap_g s_g s.t. Σ_j z_gj + s_g = 1,
    z_gj ≤ x_j, Σ x_j ≤ p; only pairs nearer than the point's cap are variables.
    """
    started = time.perf_counter()
    d, cap_value = _distances(distances, cutoff)
    n, m = d.shape
    w = _weights(weights, n)
    p_val = _k(p, "p")
    run_method = _method(method)
    _gap_option(mip_rel_gap, time_limit)
    fixed = _committed(committed, m)
    fallback = np.full(n, cap_value, dtype=np.float64)
    if existing_distance is not None:
        try:
            ed = np.asarray(existing_distance, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SitingInputError("existing_distance", "not_numeric", "must be numbers") from exc
        if ed.shape != (n,) or np.isnan(ed).any() or (ed < 0).any():
            raise SitingInputError(
                "existing_distance",
                "shape",
                f"must be {n} non-negative distances, one per demand point (inf where "
                "nothing exists)",
            )
        fallback = np.minimum(fallback, ed)
    d_csc = sp.csc_matrix(d)
    for j in fixed:
        lo, hi = d_csc.indptr[j], d_csc.indptr[j + 1]
        r = d_csc.indices[lo:hi]
        fallback[r] = np.minimum(fallback[r], d_csc.data[lo:hi])
    stats = ReductionStats(demand_in=n, candidates_in=m, candidates_committed=int(fixed.size))

    # Each point's cap: its fallback, or (if nothing bounds it) its farthest candidate, which
    # any open site beats or equals, so with p ≥ 1 the cap never decides the objective.
    coo = d.tocoo()
    rows, cols_, data = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    not_fixed = np.ones(m, dtype=bool)
    not_fixed[fixed] = False
    row_max = np.full(n, -np.inf)
    np.maximum.at(row_max, rows, data)
    cap = np.where(np.isfinite(fallback), fallback, row_max)
    useful = (data < cap[rows]) & not_fixed[cols_]
    unreachable = ~np.isfinite(cap)
    uncoverable = np.flatnonzero(
        (fallback >= cap_value) & (np.bincount(rows[useful], minlength=n) == 0) & (w > 0)
        if math.isfinite(cap_value)
        else unreachable & (w > 0)
    ).astype(np.int64)
    keep_row = (w > 0) & (np.bincount(rows[useful], minlength=n) > 0)
    stats.demand_zero_weight = int((w == 0).sum())
    stats.demand_uncoverable = int(uncoverable.size)
    stats.demand_already_covered = int(((w > 0) & ~keep_row).sum()) - int(uncoverable.size)
    col_keep = np.flatnonzero(np.bincount(cols_[useful], minlength=m) > 0).astype(np.int64)
    stats.candidates_useless = int(m - fixed.size - col_keep.size)
    # Reduced matrix: kept rows × useful columns, only entries nearer than the cap.
    row_ids = np.flatnonzero(keep_row)
    row_pos = np.full(n, -1, dtype=np.int64)
    row_pos[row_ids] = np.arange(row_ids.size)
    col_pos = np.full(m, -1, dtype=np.int64)
    col_pos[col_keep] = np.arange(col_keep.size)
    sel = useful & keep_row[rows]
    red = sp.csr_matrix(
        (data[sel], (row_pos[rows[sel]], col_pos[cols_[sel]])),
        shape=(row_ids.size, col_keep.size),
    )
    red.sort_indices()
    red_w = w[row_ids]
    red_cap = cap[row_ids]
    if red.shape[0]:
        # Points with the same distances to the same candidates and the same cap (several
        # households snapped to one network node) are one demand group.
        groups = group_identical_rows(red, extra=_row_with_cap(red, red_cap))
        n_groups = int(groups.max()) + 1
        first = np.full(n_groups, red.shape[0], dtype=np.int64)
        np.minimum.at(first, groups, np.arange(red.shape[0], dtype=np.int64))
        red_w = np.bincount(groups, weights=red_w, minlength=n_groups).astype(np.float64)
        red = red[first]
        red_cap = red_cap[first]
    stats.demand_groups = int(red.shape[0])
    stats.candidates_kept = int(col_keep.size)
    stats.seconds = time.perf_counter() - started
    rc = sp.csc_matrix(red)
    rc.sort_indices()

    status = "trivial"
    bound = math.nan
    if col_keep.size <= p_val:
        picked = list(range(col_keep.size))
        status = "optimal (every useful candidate fits)"
    else:
        picked = greedy.pmedian_greedy(rc, red_w, red_cap, p=p_val)
        picked = greedy.pmedian_swap(rc, red_w, red_cap, picked)
        status = "heuristic"
        if run_method == "exact" and red.nnz > max_exact_entries:
            raise SitingInputError(
                "method",
                "too_large",
                f"the exact p-median model has {red.nnz} assignment variables (limit "
                f"{max_exact_entries}); use the heuristic or a cutoff",
            )
        if run_method == "exact" or (lp_bound and red.nnz <= 4 * max_exact_entries):
            picked_mip, bound_red, solver_status = _pmedian_mip(
                rc,
                red_w,
                red_cap,
                picked,
                p=p_val,
                mip_rel_gap=mip_rel_gap,
                time_limit=time_limit,
                relax=run_method != "exact",
            )
            const = float(np.sum(w[~keep_row] * np.where(np.isfinite(cap), cap, 0.0)[~keep_row]))
            bound = bound_red + const
            if run_method == "exact":
                status = solver_status
                if _pm_value(rc, red_w, red_cap, picked_mip) <= _pm_value(
                    rc, red_w, red_cap, picked
                ):
                    picked = picked_mip
            else:
                status = "heuristic (LP bound)"
    chosen = col_keep[np.asarray(picked, dtype=np.int64)] if picked else np.zeros(0, np.int64)
    if not chosen.size and not np.isfinite(fallback).all() and not_fixed.any():
        # Degenerate: every candidate is as far as every other from every point, so none
        # looked useful, but with nothing open the distance would be infinite.
        chosen = np.flatnonzero(not_fixed)[:1].astype(np.int64)
    before = _weighted_sum(w, fallback)
    order, order_gain, marginal, after = _pm_report(d_csc, w, fallback, chosen.tolist())
    if not math.isnan(bound):
        bound = min(bound, after)
    return SitingResult(
        problem="p_median",
        method="exact" if run_method == "exact" else "greedy+swap",
        chosen=order,
        objective=after,
        bound=bound,
        gap=_rel_gap(after, bound),
        seconds=time.perf_counter() - started,
        marginal_gain=marginal,
        order_gain=order_gain,
        before=before,
        after=after,
        total_weight=float(w.sum()),
        cost=float(order.size),
        uncoverable=uncoverable,
        status=status,
        reduction=stats,
    )


def _row_with_cap(csr: sp.csr_matrix, cap: FloatArray) -> FloatArray:
    """Per-entry key data for grouping: (distance, row cap) pairs, so rows merge only when
    their distances and their caps both match."""
    per_entry_cap = np.repeat(cap, np.diff(csr.indptr))
    return np.ascontiguousarray(np.stack([csr.data, per_entry_cap], axis=1)).ravel()


def _pm_value(
    csc: sp.csc_matrix, weight: FloatArray, cap: FloatArray, picked: Sequence[int]
) -> float:
    d1, _, _ = greedy.nearest_two(list(picked), csc, cap)
    return float((weight * d1).sum())


def _pmedian_mip(
    rc: sp.csc_matrix,
    weight: FloatArray,
    cap: FloatArray,
    start: list[int],
    *,
    p: int,
    mip_rel_gap: float,
    time_limit: float | None,
    relax: bool,
) -> tuple[list[int], float, str]:
    n_groups, n_cols = rc.shape
    coo = rc.tocoo()
    e_row, e_col, e_dist = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    n_e = e_row.size
    # Columns: x (n_cols) | z (n_e) | s (n_groups). Rows: assign (n_groups) | link (n_e) | p.
    ones_e = np.ones(n_e)
    assign = sp.csr_matrix(
        (
            np.concatenate([ones_e, np.ones(n_groups)]),
            (
                np.concatenate([e_row, np.arange(n_groups)]),
                np.concatenate([n_cols + np.arange(n_e), n_cols + n_e + np.arange(n_groups)]),
            ),
        ),
        shape=(n_groups, n_cols + n_e + n_groups),
    )
    link = sp.csr_matrix(
        (
            np.concatenate([ones_e, -ones_e]),
            (
                np.concatenate([np.arange(n_e), np.arange(n_e)]),
                np.concatenate([n_cols + np.arange(n_e), e_col]),
            ),
        ),
        shape=(n_e, n_cols + n_e + n_groups),
    )
    count = sp.csr_matrix(
        (np.ones(n_cols), (np.zeros(n_cols, dtype=np.int64), np.arange(n_cols))),
        shape=(1, n_cols + n_e + n_groups),
    )
    matrix = sp.vstack([assign, link, count], format="csc")
    n_var = n_cols + n_e + n_groups
    start_vec = None
    if not relax:
        _, c1, _ = greedy.nearest_two(start, rc, cap)
        x = _start_vector(start, n_cols)
        z = np.zeros(n_e)
        assigned = c1[e_row] == e_col
        # Several entries can tie only if (row, col) repeats, which CSR forbids.
        z[assigned] = 1.0
        s = (c1 < 0).astype(np.float64)
        start_vec = np.concatenate([x, z, s])
    outcome = mip.solve(
        matrix=matrix,
        cost=np.concatenate([np.zeros(n_cols), weight[e_row] * e_dist, weight * cap]),
        col_lower=np.zeros(n_var),
        col_upper=np.ones(n_var),
        row_lower=np.concatenate([np.ones(n_groups), np.full(n_e, -np.inf), [-np.inf]]),
        row_upper=np.concatenate([np.ones(n_groups), np.zeros(n_e), [float(p)]]),
        integer=np.concatenate(
            [np.ones(n_cols, bool), np.zeros(n_e, bool), np.zeros(n_groups, bool)]
        ),
        maximize=False,
        start=start_vec,
        mip_rel_gap=mip_rel_gap,
        time_limit=time_limit,
        relax=relax,
    )
    picked = [int(j) for j in np.flatnonzero(outcome.values[:n_cols] > 0.5)]
    return picked, outcome.bound, outcome.status.lower()
