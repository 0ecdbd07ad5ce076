"""Shares of residents within life-circle distances, per region (and per priority group).

Inputs are per population point: its distance to the nearest facility (network or
fallback), its weight (people), an integer region label and optionally an integer group
label. One ``np.bincount`` per threshold does the grouping; population and covered counts
are returned as well as shares because they add up the region tree, shares do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .nearest import walk_distance
from .network import FloatArray, NetworkError

LIFE_CIRCLE_THRESHOLDS_M: tuple[float, ...] = (300.0, 500.0, 1000.0, walk_distance(15.0))


@dataclass(frozen=True)
class Coverage:
    """``population[r]`` people in region r, ``covered[r, t]`` of them within
    ``thresholds[t]``; ``share`` is covered / population (nan where nobody lives).
    With groups, the arrays gain a group axis after the region: (regions, groups, ...)."""

    thresholds: tuple[float, ...]
    population: FloatArray
    covered: FloatArray

    @property
    def share(self) -> FloatArray:
        pop = self.population[..., None]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(pop > 0, self.covered / np.where(pop > 0, pop, 1.0), np.nan)


def coverage_shares(
    distance: npt.ArrayLike,
    weight: npt.ArrayLike,
    region: npt.ArrayLike,
    *,
    n_regions: int | None = None,
    thresholds: Sequence[float] = LIFE_CIRCLE_THRESHOLDS_M,
    group: npt.ArrayLike | None = None,
    n_groups: int | None = None,
) -> Coverage:
    """People within each threshold per region (and group); distance inf = not covered."""
    d = np.asarray(distance, dtype=np.float64).ravel()
    w = np.asarray(weight, dtype=np.float64).ravel()
    reg = np.asarray(region, dtype=np.int64).ravel()
    if not (d.shape == w.shape == reg.shape):
        raise NetworkError("distance, weight and region must have one value per point")
    if reg.size and reg.min() < 0:
        raise NetworkError("region: labels must be 0 or more")
    if w.size and (not np.all(np.isfinite(w)) or w.min() < 0):
        raise NetworkError("weight: must be finite and not negative")
    if np.isnan(d).any():
        raise NetworkError("distance: nan is not a distance (use inf for unreachable)")
    nr = int(reg.max()) + 1 if n_regions is None and reg.size else int(n_regions or 0)
    if reg.size and reg.max() >= nr:
        raise NetworkError(f"region: a label is not below n_regions={nr}")
    thr = tuple(float(t) for t in thresholds)
    key = reg
    size = nr
    shape: tuple[int, ...] = (nr,)
    if group is not None:
        grp = np.asarray(group, dtype=np.int64).ravel()
        if grp.shape != reg.shape or (grp.size and grp.min() < 0):
            raise NetworkError("group: one label of 0 or more per point")
        ng = int(grp.max()) + 1 if n_groups is None and grp.size else int(n_groups or 0)
        if grp.size and grp.max() >= ng:
            raise NetworkError(f"group: a label is not below n_groups={ng}")
        key = reg * ng + grp
        size = nr * ng
        shape = (nr, ng)
    population = np.bincount(key, weights=w, minlength=size).astype(np.float64, copy=False)
    covered = np.empty((size, len(thr)))
    for i, t in enumerate(thr):
        covered[:, i] = np.bincount(key, weights=np.where(d <= t, w, 0.0), minlength=size)
    return Coverage(
        thresholds=thr,
        population=population.reshape(shape),
        covered=covered.reshape((*shape, len(thr))),
    )
