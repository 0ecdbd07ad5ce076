"""The arithmetic of satisfaction indices, on numpy arrays and nothing else.

Every function takes per-group arrays (one element per provider, responder,
community or service) and returns an array of the same length, so the same
code serves one provider's page and a city-wide recomputation. No Django here:
`indices.py` loads the rows and groups them; this module only computes.

Formulas (n is the number of ratings behind a figure):

- Smoothed mean (Bayesian shrinkage toward a prior):
  ``smoothed = (n * mean + m * prior) / (n + m) = (sum + m * prior) / (n + m)``.
  `m` is the prior weight, in ratings (setting ``LINLI_INDEX_PRIOR_WEIGHT``,
  default 10): with m = 10 and a service mean of 4.5, five ratings of 5.0 give
  (25 + 45) / 15 = 4.667 while five hundred of 4.8 give (2400 + 45) / 510 = 4.794.
- Share satisfied: ratings with overall >= 4, divided by n.
- Wilson score lower bound of that share (z = 1.96 for 95 %):
  ``(p + z²/2n - z * sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``.
- Needs met: the mean of yes = 1, partly = 0.5, no = 0.
- Complaint rate: complaints / evaluated requests.
- Quality, the figure that moves money and rankings: the smoothed mean less
  ``penalty`` points per complaint per evaluated request, never below 1
  (``LINLI_INDEX_COMPLAINT_PENALTY``, default 2): 4.6 with a complaint rate of
  0.1 gives 4.6 - 2 × 0.1 = 4.4. Complaints are counted as filed, founded or not:
  an unanswered complaint costs as much as an answered one, which is the
  provider's incentive to answer well rather than to argue.

A group with n = 0 gets NaN (shown as "no figure"), never a zero that reads
like a bad score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Z_95 = 1.96
SATISFIED_FROM = 4  # overall >= 4 counts as satisfied
NEED_MET_SCORES = {"yes": 1.0, "partly": 0.5, "no": 0.0}


def _divide(top: Any, bottom: Any) -> FloatArray:
    top = np.asarray(top, dtype=np.float64)
    bottom = np.asarray(bottom, dtype=np.float64)
    out = np.full(np.broadcast(top, bottom).shape, np.nan)
    np.divide(top, bottom, out=out, where=bottom > 0)
    return out


def mean(sums: Any, counts: Any) -> FloatArray:
    """The plain mean per group: sum / n, NaN where n = 0."""
    return _divide(sums, counts)


def shrunk_mean(sums: Any, counts: Any, priors: Any, weight: float) -> FloatArray:
    """(n · mean + m · prior) / (n + m): the mean pulled toward `priors` by `weight` ratings.

    With weight = 0 it is the plain mean; a group with no ratings gets its prior.
    """
    if weight < 0:
        raise ValueError("the prior weight cannot be negative")
    sums = np.asarray(sums, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    priors = np.asarray(priors, dtype=np.float64)
    return _divide(sums + weight * priors, counts + weight)


def share(successes: Any, counts: Any) -> FloatArray:
    """successes / n, NaN where n = 0."""
    return _divide(successes, counts)


def wilson_lower(successes: Any, counts: Any, z: float = Z_95) -> FloatArray:
    """The Wilson score interval's lower bound for a share successes / n (95 % by default).

    It is what a share can be trusted to be at least: 1 of 1 gives 0.207, 90 of 100
    gives 0.826. NaN where n = 0.
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(counts, dtype=np.float64)
    p = _divide(k, n)
    safe_n = np.where(n > 0, n, 1.0)
    z2 = z * z
    centre = p + z2 / (2 * safe_n)
    margin = z * np.sqrt(p * (1 - p) / safe_n + z2 / (4 * safe_n * safe_n))
    lower = (centre - margin) / (1 + z2 / safe_n)
    # Rounding can leave -1e-17 for p = 0; the bound of a share is never below 0.
    return np.where(n > 0, np.clip(lower, 0.0, 1.0), np.nan)


def need_met_scores(values: Any) -> FloatArray:
    """Map "yes" / "partly" / "no" to 1 / 0.5 / 0; anything else (unanswered) to NaN."""
    values = np.asarray(values, dtype=object)
    out = np.full(values.shape, np.nan)
    for answer, score in NEED_MET_SCORES.items():
        out[values == answer] = score
    return out


def complaint_rate(complaints: Any, evaluated: Any) -> FloatArray:
    """Complaints per evaluated request, NaN where nothing was evaluated."""
    return _divide(complaints, evaluated)


def quality(smoothed: Any, rates: Any, penalty: float) -> FloatArray:
    """smoothed - penalty × complaint rate, floored at 1 (the bottom of the scale).

    A missing complaint rate (nothing evaluated) costs nothing; a missing smoothed
    mean stays NaN.
    """
    if penalty < 0:
        raise ValueError("the complaint penalty cannot be negative")
    smoothed = np.asarray(smoothed, dtype=np.float64)
    rates = np.nan_to_num(np.asarray(rates, dtype=np.float64), nan=0.0)
    return np.where(np.isnan(smoothed), np.nan, np.maximum(smoothed - penalty * rates, 1.0))


def group_index(keys: Any) -> tuple[npt.NDArray[Any], IntArray]:
    """The distinct keys (sorted) and, for each element, the position of its key."""
    unique, inverse = np.unique(np.asarray(keys), return_inverse=True)
    return unique, inverse.astype(np.int64).reshape(-1)


def group_sum(inverse: IntArray, values: Any, size: int) -> FloatArray:
    """Sum of `values` per group (NaN values are left out)."""
    values = np.asarray(values, dtype=np.float64)
    summed = np.bincount(inverse, weights=np.nan_to_num(values, nan=0.0), minlength=size)
    return np.asarray(summed, dtype=np.float64)


def group_count(inverse: IntArray, size: int, mask: Any = None) -> IntArray:
    """Elements per group; with `mask`, only those where it is true."""
    if mask is None:
        return np.bincount(inverse, minlength=size).astype(np.int64)
    return np.bincount(inverse[np.asarray(mask, dtype=bool)], minlength=size).astype(np.int64)
