"""Iterated local search for maximal covering with a site count (k): a strong MIP start.

HiGHS proves the gap much faster when the incumbent it is given is already (near) optimal:
with the optimum as the start, the root node's reduced-cost fixing and strong branching
close the 0.1 % gap on their own, while a start 0.05 % below the optimum costs a tree of
dozens of nodes. One 1-swap local optimum (siting_greedy.mclp_swap) is typically 1-2 %
below the optimum on dense instances, so this module searches further: kick a few sites
out, refill greedily with some randomness, descend to a 1-swap local optimum again, and
accept the result if it is not much worse than the current one (a random-walk acceptance
that lets the search leave a local optimum). The seed is fixed, so runs are repeatable.

The walks' local optima are kept in a pool, and the best of them are recombined: the sites
of the elite solutions (a few dozen) form a small MIP that HiGHS solves in a fraction of a
second, and its optimum is often better than every walk's (two walks may each get one
neighbourhood right). A round of walks and recombination repeats from the new best until
recombining finds nothing better.

Only the start changes: the MIP still proves the bound, so the answer stays exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
# Site sets found by the walks (local optima), with their covered weight.
Pool = dict[frozenset[int], float]
# Solves maximal covering exactly on a sub-problem: (cover, weights, start) -> chosen sites.
ExactSolver = Callable[[sp.csc_matrix, FloatArray, list[int]], list[int]]


class _Cover:
    """Group cover counts for a site set, with the best 1-swap move computed in one shot."""

    def __init__(self, csc: sp.csc_matrix, weight: FloatArray) -> None:
        self.csc = sp.csc_matrix(csc, dtype=np.float64)
        self.csr_t = sp.csr_matrix(self.csc.T)
        self.weight = np.asarray(weight, dtype=np.float64)
        self.tol = 1e-9 * max(float(self.weight.sum()), 1.0)
        # Nearness of two sites: how many sites overlap both (two hops in the overlap
        # graph), so a kick can shake one neighbourhood instead of scattered sites.
        overlap = sp.csr_matrix((self.csr_t @ self.csc) > 0, dtype=np.float64)
        self.near = (overlap @ overlap).toarray()
        self.csr = sp.csr_matrix(self.csc)

    def rows(self, j: int) -> npt.NDArray[np.int32]:
        csc = self.csc
        return csc.indices[csc.indptr[j] : csc.indptr[j + 1]]

    def counts(self, sites: list[int]) -> IntArray:
        count = np.zeros(self.csc.shape[0], dtype=np.int64)
        for j in sites:
            count[self.rows(j)] += 1
        return count

    def value(self, count: IntArray) -> float:
        return float(self.weight[count > 0].sum())

    def fill(
        self, sites: list[int], count: IntArray, k: int, rng: np.random.Generator, spread: int
    ) -> None:
        """Add sites up to k, each among the `spread` largest marginal gains at random."""
        n_cols = self.csc.shape[1]
        while len(sites) < min(k, n_cols):
            gains = self.csr_t @ (self.weight * (count == 0))
            gains[sites] = -np.inf
            top = np.argpartition(-gains, min(spread, n_cols - len(sites)) - 1)[:spread]
            top = top[np.isfinite(gains[top])]
            j = int(top[rng.integers(top.size)]) if spread > 1 else int(np.argmax(gains))
            sites.append(j)
            count[self.rows(j)] += 1

    def swap_terms(self, sites: list[int], count: IntArray) -> tuple[FloatArray, FloatArray]:
        """loss[o]: the weight only sites[o] covers; extra[i, o]: what site i covers of it.

        Only groups covered exactly once count, and each has one owner among the sites, so
        both are bincounts over those groups' cover entries (thousands of calls per search:
        plain numpy, none of scipy.sparse's per-call overhead)."""
        k, n_cols = len(sites), self.csc.shape[1]
        owner = np.zeros(count.size, dtype=np.int64)
        for o, j in enumerate(sites):
            owner[self.rows(j)] += o  # the owner's position, where count == 1
        once = np.flatnonzero(count == 1)
        weight = self.weight[once]
        loss = np.bincount(owner[once], weights=weight, minlength=k).astype(np.float64, copy=False)
        entry, lengths = _row_entries(self.csr, once)
        key = self.csr.indices[entry].astype(np.int64) * k + np.repeat(owner[once], lengths)
        extra = np.bincount(key, weights=np.repeat(weight, lengths), minlength=n_cols * k)
        return loss, extra.astype(np.float64, copy=False).reshape(n_cols, k)

    def descend(self, sites: list[int], count: IntArray) -> None:
        """Best-improvement 1-swap until no swap gains: delta(i, o) = gain of opening i on the
        uncovered groups, plus what i re-covers of the groups only S[o] covers, minus what
        closing S[o] loses."""
        while sites:
            gains0 = self.csr_t @ (self.weight * (count == 0))
            loss, extra = self.swap_terms(sites, count)
            delta = gains0[:, None] + extra - loss[None, :]
            delta[sites, :] = -np.inf
            i, o = np.unravel_index(int(np.argmax(delta)), delta.shape)
            if delta[i, o] <= self.tol:
                return
            count[self.rows(sites[o])] -= 1
            count[self.rows(int(i))] += 1
            sites[o] = int(i)


def _row_entries(csr: sp.csr_matrix, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Positions in csr.indices of every entry of `rows` (their slices, concatenated), and
    each row's entry count."""
    starts = csr.indptr[rows]
    lengths = csr.indptr[rows + 1] - starts
    # Each entry's position = its row's start + its place within the row.
    first_of_row = np.cumsum(lengths) - lengths
    entry = np.repeat(starts - first_of_row, lengths) + np.arange(int(lengths.sum()))
    return entry, lengths


@dataclass(frozen=True)
class WalkSettings:
    """How a walk shakes and accepts (see `_walk`)."""

    iterations: int = 250
    stall: int = 150
    max_kick: int = 4
    accept: float = 0.002
    spread: int = 4


def _walk(
    model: _Cover,
    rng: np.random.Generator,
    start: list[int],
    pool: Pool,
    *,
    k: int,
    randomize_start: bool,
    settings: WalkSettings,
) -> None:
    """One walk: fill and descend from `start`, then kick-refill-descend, adding every local
    optimum it meets to `pool`. An iteration removes 1..max_kick sites around a random
    chosen one, refills greedily (a random pick among the `spread` best gains) and descends
    to a 1-swap local optimum; the trial replaces the current set if its value is at least
    (1 − accept·U) times the current one, U uniform in [0, 1), so the walk can leave a basin.
    It stops after `iterations`, or `stall` iterations without finding a better set."""
    current = list(dict.fromkeys(start))
    count = model.counts(current)
    model.fill(current, count, k, rng, settings.spread if randomize_start else 1)
    model.descend(current, count)
    value = model.value(count)
    pool[frozenset(current)] = value
    walk_best, last = value, 0
    kick_max = min(settings.max_kick, len(current))
    for it in range(1, settings.iterations + 1):
        if it - last > settings.stall or kick_max == 0:
            return
        trial = list(current)
        kick = int(rng.integers(1, kick_max + 1))
        centre = trial[int(rng.integers(len(trial)))]
        closeness = model.near[centre, trial] + rng.random(len(trial))
        for o in sorted(np.argsort(-closeness)[:kick], reverse=True):
            trial.pop(int(o))
        trial_count = model.counts(trial)
        model.fill(trial, trial_count, k, rng, settings.spread)
        model.descend(trial, trial_count)
        trial_value = model.value(trial_count)
        pool[frozenset(trial)] = trial_value
        if trial_value >= value * (1.0 - settings.accept * rng.random()):
            current, value = trial, trial_value
        if trial_value > walk_best + model.tol:
            walk_best, last = trial_value, it


def _walks(
    model: _Cover,
    rng: np.random.Generator,
    start: list[int],
    pool: Pool,
    *,
    k: int,
    runs: int,
    settings: WalkSettings,
) -> None:
    """`runs` independent walks, the first from `start`, the others from randomized greedy
    sets: the landscape has several deep basins (local optima 0.05 % apart with half their
    sites different), and separate walks reach more of them than one long walk."""
    for run in range(max(runs, 1)):
        first = [int(j) for j in start] if run == 0 else []
        _walk(model, rng, first, pool, k=k, randomize_start=run > 0, settings=settings)


def _best(pool: Pool) -> list[int]:
    sites, _ = max(pool.items(), key=lambda item: item[1])
    return sorted(sites)


def elite_sites(pool: Pool, *, size: int) -> list[int]:
    """The sites of the best pooled solutions, best first, while there are at most `size`
    (at least the best solution's)."""
    sites: set[int] = set()
    for solution in sorted(pool, key=lambda s: -pool[s]):
        if sites and len(sites | solution) > size:
            break
        sites |= solution
    return sorted(sites)


def recombine(
    csc: sp.csc_matrix, weight: FloatArray, pool: Pool, exact: ExactSolver, *, size: int
) -> list[int]:
    """The best site set using only the elite solutions' sites (`elite_sites`), solved
    exactly from the pool's best."""
    sites = elite_sites(pool, size=size)
    sub = sp.csc_matrix(csc[:, sites])
    touched = np.flatnonzero(np.diff(sp.csr_matrix(sub).indptr) > 0)
    position = {j: i for i, j in enumerate(sites)}
    start = [position[j] for j in _best(pool)]
    picked = exact(sp.csc_matrix(sub[touched]), weight[touched], start)
    return sorted(sites[i] for i in picked)


def mclp_elite_search(
    csc: sp.csc_matrix,
    weight: FloatArray,
    start: list[int],
    *,
    k: int,
    exact: ExactSolver,
    rounds: int = 3,
    elite_size: float = 3.5,
    settings: WalkSettings = WalkSettings(),
    seed: int = 0,
) -> list[int]:
    """Iterated local search with recombination: a strong start for the full MIP.

    Round one: three walks (`_walks`), then `recombine` over the elite sites (about
    elite_size × k of them). Each later round walks once more from the best so far,
    pooling its local optima with the others, and recombines again; the rounds stop when
    a later round's recombination does not improve the best, or after `rounds`. Measured
    on the benchmark instance (1,230 groups × 260 candidates, k = 20): one round reached
    the proven optimum from 7 of 8 seeds, two rounds from all 8. Never worse than `start`.
    """
    model = _Cover(csc, weight)
    pool: Pool = {}
    _walks(model, np.random.default_rng(seed), start, pool, k=k, runs=3, settings=settings)
    size = max(int(elite_size * k), k + 1)
    for round_no in range(max(rounds, 1)):
        if round_no:
            rng = np.random.default_rng([seed, round_no])
            _walk(model, rng, _best(pool), pool, k=k, randomize_start=False, settings=settings)
        best_value = max(pool.values())
        merged = recombine(csc, weight, pool, exact, size=size)
        merged_value = model.value(model.counts(merged))
        if merged_value > best_value + model.tol:
            pool[frozenset(merged)] = merged_value
        elif round_no:
            break
    return _best(pool)
