"""Model reductions for the siting problems: smaller models with the same optimum.

Each reduction is an equivalence, not an approximation (the reasons are in the docstrings
and in docs/planning.md), so the exact solver's answer on the reduced model, mapped back,
is an optimal answer of the original model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class ReductionStats:
    """How much each reduction removed; shown to the planner next to the result."""

    demand_in: int = 0
    demand_zero_weight: int = 0
    demand_already_covered: int = 0
    demand_uncoverable: int = 0
    demand_groups: int = 0
    demand_rows_dominated: int = 0
    candidates_in: int = 0
    candidates_committed: int = 0
    candidates_useless: int = 0
    candidates_dominated: int = 0
    candidates_kept: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def canonical_csr(matrix: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """Boolean CSR with sorted, duplicate-free indices, so equal rows have equal bytes."""
    csr = sp.csr_matrix(matrix, dtype=np.float64)
    csr.eliminate_zeros()
    csr.sum_duplicates()
    csr.sort_indices()
    out = sp.csr_matrix(
        (np.ones(csr.nnz, dtype=np.int8), csr.indices.astype(np.int32), csr.indptr),
        shape=csr.shape,
    )
    out.has_sorted_indices = True
    return out


def group_identical_rows(csr: sp.csr_matrix, extra: FloatArray | None = None) -> IntArray:
    """Group id per row: rows with the same column set (and the same `extra` values) share one.

    Hashing the index bytes of each row is exact (a dict, not a probabilistic hash) and
    linear in the number of non-zeros; `extra` carries per-entry data (distances) that must
    also match for p-median.
    """
    indptr, indices = csr.indptr, csr.indices
    data = extra
    groups = np.empty(csr.shape[0], dtype=np.int64)
    seen: dict[bytes, int] = {}
    for row in range(csr.shape[0]):
        lo, hi = indptr[row], indptr[row + 1]
        key = indices[lo:hi].tobytes()
        if data is not None:
            key += b"|" + data[lo:hi].tobytes()
        groups[row] = seen.setdefault(key, len(seen))
    return groups


def merge_rows(
    csr: sp.csr_matrix, weight: FloatArray
) -> tuple[sp.csr_matrix, FloatArray, IntArray]:
    """Merge demand rows with identical coverage sets, summing their weights.

    Safe: in every model here a demand row enters only through its coverage set, so two rows
    with the same set are covered together or not at all; one row with the summed weight
    has the same objective for every choice of sites.
    """
    groups = group_identical_rows(csr)
    n_groups = int(groups.max()) + 1 if groups.size else 0
    first = np.full(n_groups, csr.shape[0], dtype=np.int64)
    np.minimum.at(first, groups, np.arange(csr.shape[0], dtype=np.int64))
    merged_weight = np.bincount(groups, weights=weight, minlength=n_groups).astype(np.float64)
    return canonical_csr(csr[first]), merged_weight, groups


def dominated_columns(cover: sp.csr_matrix, cost: FloatArray) -> BoolArray:
    """Candidates whose coverage is a subset of another's that costs no more.

    j is dropped when some j' covers every row j covers and costs no more, with ties (the
    same set at the same cost) broken by index so exactly one of a tied family survives.
    The relation "j' beats j" is a strict partial order, so each dropped candidate has a
    kept one that beats it; swapping j for that one in any solution keeps it feasible (no
    more cost, no more sites) and covers no less, hence the optimum is unchanged.
    """
    m = cover.shape[1]
    if m <= 1:
        return np.zeros(m, dtype=bool)
    csc = sp.csc_matrix(cover, dtype=np.int32)
    size = np.diff(csc.indptr).astype(np.int64)
    overlap = (csc.T @ csc).tocoo()
    r, c, v = overlap.row.astype(np.int64), overlap.col.astype(np.int64), overlap.data
    subset = (r != c) & (v == size[r]) & (cost[c] <= cost[r])
    strict = (size[c] > size[r]) | (cost[c] < cost[r]) | (c < r)
    dominated = np.zeros(m, dtype=bool)
    dominated[r[subset & strict]] = True
    return dominated


def dominated_rows(cover: sp.csr_matrix, max_rows: int = 20000) -> BoolArray:
    """Set covering only: rows implied by another row (its cover set is a strict superset).

    If cover(i') ⊂ cover(i), any selection covering i' covers i too, so row i is redundant.
    Rows must already be merged (no identical pairs). Skipped above `max_rows` because the
    row-overlap matrix grows with the square of the rows sharing candidates.
    """
    n = cover.shape[0]
    if n <= 1 or n > max_rows:
        return np.zeros(n, dtype=bool)
    csr = sp.csr_matrix(cover, dtype=np.int32)
    size = np.diff(csr.indptr).astype(np.int64)
    overlap = (csr @ csr.T).tocoo()
    r, c, v = overlap.row.astype(np.int64), overlap.col.astype(np.int64), overlap.data
    # Row r is implied by row c when c's set is contained in r's and strictly smaller.
    implied = (r != c) & (v == size[c]) & (size[c] < size[r])
    out = np.zeros(n, dtype=bool)
    out[r[implied]] = True
    return out
