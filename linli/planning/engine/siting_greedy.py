"""Heuristics for the siting problems: lazy greedy, then 1-swap local search.

All functions work on the reduced model: demand groups × kept candidates, with weights per
group. Indices in and out are reduced candidate columns.
"""

from __future__ import annotations

import heapq

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _ratio(gain: float, cost: float) -> float:
    # A free site with a positive gain is always worth taking first.
    if cost <= 0.0:
        return np.inf if gain > 0 else 0.0
    return gain / cost


# --- Maximal covering ---------------------------------------------------------------------


def mclp_greedy(
    csc: sp.csc_matrix,
    weight: FloatArray,
    cost: FloatArray,
    *,
    k: int | None,
    budget: float | None,
) -> list[int]:
    """Lazy greedy: marginal gains only shrink (coverage is submodular), so a stale heap
    entry that still tops the heap after recomputation is the true best."""
    n_cols = csc.shape[1]
    covered = np.zeros(csc.shape[0], dtype=bool)
    indptr, indices = csc.indptr, csc.indices
    gains = np.asarray(csc.T @ weight, dtype=np.float64).ravel()
    use_ratio = budget is not None
    tol = 1e-12 * max(float(weight.sum()), 1.0)
    heap: list[tuple[float, int]] = []
    for j in range(n_cols):
        if gains[j] > tol and (budget is None or cost[j] <= budget):
            heap.append((-(_ratio(gains[j], cost[j]) if use_ratio else gains[j]), j))
    heapq.heapify(heap)
    chosen: list[int] = []
    spent = 0.0
    while heap and (k is None or len(chosen) < k):
        _, j = heapq.heappop(heap)
        if budget is not None and spent + cost[j] > budget * (1 + 1e-12):
            continue  # the remaining budget only shrinks: j never fits again
        rows = indices[indptr[j] : indptr[j + 1]]
        gain = float(weight[rows[~covered[rows]]].sum())
        if gain <= tol:
            continue
        key = _ratio(gain, cost[j]) if use_ratio else gain
        if heap and key < -heap[0][0] - tol:
            heapq.heappush(heap, (-key, j))
            continue
        covered[rows] = True
        chosen.append(j)
        spent += float(cost[j])
    if budget is not None:
        # Ratio greedy alone can be arbitrarily bad with a budget; the best single site
        # restores the classic constant-factor guarantee.
        total = float(weight[covered].sum())
        affordable = np.flatnonzero(cost <= budget)
        if affordable.size:
            best = int(affordable[np.argmax(gains[affordable])])
            if gains[best] > total + tol:
                chosen = [best]
    return chosen


def mclp_swap(
    csc: sp.csc_matrix,
    weight: FloatArray,
    cost: FloatArray,
    chosen: list[int],
    *,
    k: int | None,
    budget: float | None,
    max_rounds: int = 10_000,
) -> list[int]:
    """Best-improvement local search over add and 1-swap moves until none improves."""
    n_rows, n_cols = csc.shape
    indptr, indices = csc.indptr, csc.indices
    x = np.zeros(n_cols, dtype=bool)
    x[chosen] = True
    count = np.zeros(n_rows, dtype=np.int64)
    for j in chosen:
        count[indices[indptr[j] : indptr[j + 1]]] += 1
    tol = 1e-9 * max(float(weight.sum()), 1.0)
    cap = budget * (1 + 1e-12) if budget is not None else None
    order = list(chosen)
    for _ in range(max_rounds):
        spent = float(cost[x].sum())
        best_delta, best_out, best_in = tol, -1, -1
        if k is None or int(x.sum()) < k:
            gains = np.asarray(csc.T @ (weight * (count == 0)), dtype=np.float64).ravel()
            feasible = ~x if cap is None else ~x & (spent + cost <= cap)
            if feasible.any():
                j_in = int(np.flatnonzero(feasible)[np.argmax(gains[feasible])])
                if gains[j_in] > best_delta:
                    best_delta, best_out, best_in = float(gains[j_in]), -1, j_in
        for j_out in np.flatnonzero(x):
            rows = indices[indptr[j_out] : indptr[j_out + 1]]
            solo = rows[count[rows] == 1]
            loss = float(weight[solo].sum())
            open_rows = count == 0
            open_rows[solo] = True
            gains = np.asarray(csc.T @ (weight * open_rows), dtype=np.float64).ravel()
            feasible = ~x
            if cap is not None:
                feasible &= spent - cost[j_out] + cost <= cap
            if not feasible.any():
                continue
            j_in = int(np.flatnonzero(feasible)[np.argmax(gains[feasible])])
            delta = float(gains[j_in]) - loss
            if delta > best_delta:
                best_delta, best_out, best_in = delta, int(j_out), j_in
        if best_in < 0:
            break
        if best_out >= 0:
            x[best_out] = False
            count[indices[indptr[best_out] : indptr[best_out + 1]]] -= 1
            order.remove(best_out)
        x[best_in] = True
        count[indices[indptr[best_in] : indptr[best_in + 1]]] += 1
        order.append(best_in)
    return order


def mclp_upper_bound(
    csc: sp.csc_matrix,
    weight: FloatArray,
    cost: FloatArray,
    chosen: list[int],
    *,
    k: int | None,
    budget: float | None,
) -> float:
    """A proven upper bound on the best reduced objective, from any solution S.

    Coverage is submodular, so f(OPT) ≤ f(S) + Σ_{j∈OPT} gain_j(S); the sum is at most the k
    largest gains (cardinality) or the fractional-knapsack value of the gains (budget).
    """
    covered = np.zeros(csc.shape[0], dtype=bool)
    for j in chosen:
        covered[csc.indices[csc.indptr[j] : csc.indptr[j + 1]]] = True
    value = float(weight[covered].sum())
    gains = np.asarray(csc.T @ (weight * ~covered), dtype=np.float64).ravel()
    if budget is None:
        extra = float(np.sort(gains)[::-1][: k or 0].sum())
    else:
        free = cost <= 0
        extra = float(gains[free].sum())
        paid = np.flatnonzero(~free & (gains > 0))
        order = paid[np.argsort(-(gains[paid] / cost[paid]), kind="stable")]
        room = float(budget)
        for j in order:
            if cost[j] <= room:
                extra += float(gains[j])
                room -= float(cost[j])
            else:
                extra += float(gains[j]) * room / float(cost[j])
                break
    return min(value + extra, float(weight.sum()))


# --- Set covering --------------------------------------------------------------------------


def lscp_greedy(csc: sp.csc_matrix, cost: FloatArray) -> list[int]:
    """Chvátal's greedy (most newly covered rows per unit cost), then drop redundant sites.

    Every row must be coverable by some column (the caller removed the others).
    """
    n_rows, n_cols = csc.shape
    indptr, indices = csc.indptr, csc.indices
    covered = np.zeros(n_rows, dtype=bool)
    sizes = np.diff(indptr).astype(np.float64)
    heap = [(-_ratio(sizes[j], cost[j]), j) for j in range(n_cols) if sizes[j] > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    left = n_rows
    while left > 0 and heap:
        _, j = heapq.heappop(heap)
        rows = indices[indptr[j] : indptr[j + 1]]
        new = int((~covered[rows]).sum())
        if new == 0:
            continue
        key = _ratio(float(new), cost[j])
        if heap and key < -heap[0][0]:
            heapq.heappush(heap, (-key, j))
            continue
        covered[rows] = True
        left -= new
        chosen.append(j)
    count = np.zeros(n_rows, dtype=np.int64)
    for j in chosen:
        count[indices[indptr[j] : indptr[j + 1]]] += 1
    # Dearest first: dropping an expensive redundant site saves the most.
    for j in sorted(chosen, key=lambda c: (-cost[c], -c)):
        rows = indices[indptr[j] : indptr[j + 1]]
        if (count[rows] >= 2).all():
            count[rows] -= 1
            chosen.remove(j)
    return chosen


# --- p-median ------------------------------------------------------------------------------


def pmedian_gains(
    reach: FloatArray,
    rows: IntArray,
    cols: IntArray,
    dist: FloatArray,
    weight: FloatArray,
    n_cols: int,
) -> FloatArray:
    """For every candidate, the drop in Σ w·distance if it opened, given current distances."""
    saving = weight[rows] * np.maximum(reach[rows] - dist, 0.0)
    return np.bincount(cols, weights=saving, minlength=n_cols).astype(np.float64)


def nearest_two(
    chosen: list[int], csc: sp.csc_matrix, cap: FloatArray
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Nearest and second-nearest open distance per row; the cap acts as an always-open site
    (index -1) that can never be closed."""
    d1 = cap.copy()
    c1 = np.full(cap.shape[0], -1, dtype=np.int64)
    d2 = cap.copy()
    for j in chosen:
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        d = csc.data[csc.indptr[j] : csc.indptr[j + 1]]
        closer = d < d1[rows]
        second = ~closer & (d < d2[rows])
        r_closer = rows[closer]
        d2[r_closer] = d1[r_closer]
        d1[r_closer] = d[closer]
        c1[r_closer] = j
        d2[rows[second]] = d[second]
    return d1, c1, d2


def pmedian_greedy(csc: sp.csc_matrix, weight: FloatArray, cap: FloatArray, *, p: int) -> list[int]:
    """Add the site that lowers Σ w·distance most, p times (stops early if nothing helps)."""
    coo = csc.tocoo()
    rows, cols, dist = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    reach = cap.copy()
    chosen: list[int] = []
    for _ in range(p):
        gains = pmedian_gains(reach, rows, cols, dist, weight, csc.shape[1])
        gains[chosen] = -1.0
        j = int(np.argmax(gains))
        if gains[j] <= 0:
            break
        chosen.append(j)
        lo, hi = csc.indptr[j], csc.indptr[j + 1]
        r = csc.indices[lo:hi]
        reach[r] = np.minimum(reach[r], csc.data[lo:hi])
    return chosen


def pmedian_swap(
    csc: sp.csc_matrix,
    weight: FloatArray,
    cap: FloatArray,
    chosen: list[int],
    *,
    max_rounds: int = 10_000,
) -> list[int]:
    """Teitz–Bart vertex substitution, best improvement: for each open site, the best
    closed site to put in its place, evaluated for all candidates at once."""
    coo = csc.tocoo()
    rows, cols, dist = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    n_cols = csc.shape[1]
    chosen = list(chosen)
    tol = 1e-12 * max(float((weight * cap).sum()), 1.0)
    for _ in range(max_rounds):
        d1, c1, d2 = nearest_two(chosen, csc, cap)
        current = float((weight * d1).sum())
        best_delta, best_out, best_in = -tol, -1, -1
        for j_out in chosen:
            reach = np.where(c1 == j_out, d2, d1)
            base = float((weight * reach).sum())
            gains = pmedian_gains(reach, rows, cols, dist, weight, n_cols)
            gains[chosen] = -np.inf
            j_in = int(np.argmax(gains))
            delta = base - float(gains[j_in]) - current
            if delta < best_delta:
                best_delta, best_out, best_in = delta, j_out, j_in
        if best_in < 0:
            break
        chosen[chosen.index(best_out)] = best_in
    return chosen
