"""Benchmark: maximal covering, 2,000 demand points × 300 candidates, k = 20, radius 1,000 m.

A synthetic city (seeded): about 10 km across, population points clustered in
neighbourhoods of different sizes and densities with some scattered housing, weights
from a lognormal population per point; 300 candidate sites spread over the city (a
jittered grid, as sites generated from network nodes would be). Straight-line
distances; the same cover matrix goes to every tool. In the same run:

- **Linli** `maximal_covering(..., k=20)`: reductions (identical demand rows merged,
  dominated candidates dropped), greedy + swap, then an iterated local search whose best
  solutions are recombined in a small exact MIP as the start, then HiGHS (Σx = k, its
  own primal heuristics off) with mip_rel_gap 1e-3.
- **Linli heuristic**: greedy + swap only, with its submodular upper bound.
- **Plain highspy**: the textbook MCLP (x binary per candidate, y per demand point)
  passed straight to HiGHS, same gap, no reductions, no start.
- **spopt** `MCLP.from_cost_matrix(...).solve(pulp.HiGHS(...))` (PuLP's HiGHS
  interface over highspy; CBC if HiGHS is unavailable), same gap, capped at
  SPOPT_TIME_LIMIT seconds.

It prints a markdown table (wall and CPU seconds, objective, proven bound, gap, ratio to Linli) and
checks: objectives equal within the gap, Linli's gap ≤ 0.1 %, Linli ≥ 10× faster than
spopt.

    make bench-planning      # or: .venv/bin/python benchmarks/planning_siting.py

SEED, REPEAT (best of, for Linli; default 1) and SPOPT_TIME_LIMIT (default 300) tune it;
SKIP_SPOPT=1 leaves spopt out for a quick look.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from linli.planning.engine import siting_mip  # noqa: E402
from linli.planning.engine.siting import maximal_covering  # noqa: E402
from linli.planning.engine.siting_reduce import ReductionStats  # noqa: E402

SEED = int(os.environ.get("SEED", "2026"))
REPEAT = int(os.environ.get("REPEAT", "1"))
SPOPT_TIME_LIMIT = float(os.environ.get("SPOPT_TIME_LIMIT", "300"))
SKIP_SPOPT = os.environ.get("SKIP_SPOPT") == "1"
N_DEMAND, N_CANDIDATES, K, RADIUS = 2000, 300, 20, 1000.0
GAP = 1e-3
EXTENT = 10_000.0


@dataclass
class Run:
    seconds: float
    cpu: float
    objective: float
    bound: float
    gap: float
    status: str
    capped: bool = False
    reduction: ReductionStats | None = None


def synthetic_city(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand points (x, y), their weights, candidate points (x, y)."""
    rng = np.random.default_rng(seed)
    n_hoods = 45
    centres = rng.uniform(0.08 * EXTENT, 0.92 * EXTENT, size=(n_hoods, 2))
    spread = rng.uniform(200.0, 700.0, size=n_hoods)
    size = rng.pareto(1.5, size=n_hoods) + 1.0
    n_scattered = int(0.12 * N_DEMAND)
    counts = rng.multinomial(N_DEMAND - n_scattered, size / size.sum())
    clustered = np.concatenate(
        [rng.normal(centres[h], spread[h], size=(counts[h], 2)) for h in range(n_hoods)]
    )
    scattered = rng.uniform(0.0, EXTENT, size=(n_scattered, 2))
    demand = np.clip(np.vstack([clustered, scattered]), 0.0, EXTENT)
    weights = np.round(rng.lognormal(mean=4.5, sigma=0.8, size=N_DEMAND))
    side = int(np.ceil(np.sqrt(N_CANDIDATES)))
    grid = (np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2) + 0.5) * (
        EXTENT / side
    )
    pick = rng.choice(grid.shape[0], size=N_CANDIDATES, replace=False)
    candidates = grid[pick] + rng.normal(0.0, 0.25 * EXTENT / side, size=(N_CANDIDATES, 2))
    return demand, weights, np.clip(candidates, 0.0, EXTENT)


def cover_matrix(demand: np.ndarray, candidates: np.ndarray) -> sp.csr_matrix:
    tree = cKDTree(candidates)
    pairs = tree.query_ball_point(demand, r=RADIUS)
    rows = np.repeat(np.arange(len(pairs)), [len(p) for p in pairs])
    cols = np.concatenate([np.asarray(p, dtype=np.int64) for p in pairs])
    return sp.csr_matrix(
        (np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(len(pairs), len(candidates))
    )


def run_linli(weights: np.ndarray, cover: sp.csr_matrix, method: str) -> Run:
    best: Run | None = None
    for _ in range(REPEAT):
        started, cpu = time.perf_counter(), time.process_time()
        result = maximal_covering(weights, cover, k=K, method=method, mip_rel_gap=GAP)
        seconds = time.perf_counter() - started
        if best is None or seconds < best.seconds:
            best = Run(
                seconds,
                time.process_time() - cpu,
                result.objective,
                result.bound,
                result.gap,
                result.status,
                reduction=result.reduction,
            )
    assert best is not None
    return best


def run_plain_highspy(weights: np.ndarray, cover: sp.csr_matrix) -> Run:
    """The textbook model, one y per demand point, straight into HiGHS."""
    n, m = cover.shape
    started, cpu = time.perf_counter(), time.process_time()
    link = sp.hstack([-sp.csc_matrix(cover, dtype=np.float64), sp.identity(n)], format="csc")
    count = sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(n)]))
    outcome = siting_mip.solve(
        matrix=sp.vstack([link, count], format="csc"),
        cost=np.concatenate([np.zeros(m), weights]),
        col_lower=np.zeros(m + n),
        col_upper=np.ones(m + n),
        row_lower=np.full(n + 1, -np.inf),
        row_upper=np.concatenate([np.zeros(n), [float(K)]]),
        integer=np.concatenate([np.ones(m, bool), np.zeros(n, bool)]),
        maximize=True,
        mip_rel_gap=GAP,
    )
    chosen = np.flatnonzero(outcome.values[:m] > 0.5)
    objective = float(weights[np.asarray(cover[:, chosen].sum(axis=1)).ravel() > 0].sum())
    return Run(
        time.perf_counter() - started,
        time.process_time() - cpu,
        objective,
        outcome.bound,
        outcome.gap,
        outcome.status,
    )


def run_spopt(weights: np.ndarray, demand: np.ndarray, candidates: np.ndarray) -> Run:
    import pulp
    from spopt.locate import MCLP

    distance = np.sqrt(((demand[:, None, :] - candidates[None, :, :]) ** 2).sum(-1))
    available = pulp.listSolvers(onlyAvailable=True)
    if "HiGHS" in available:
        solver = pulp.HiGHS(msg=False, gapRel=GAP, timeLimit=SPOPT_TIME_LIMIT)
        name = "PuLP HiGHS (highspy)"
    else:
        solver = pulp.PULP_CBC_CMD(msg=False, gapRel=GAP, timeLimit=SPOPT_TIME_LIMIT)
        name = "PuLP CBC"
    started, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MCLP.from_cost_matrix(distance, weights, service_radius=RADIUS, p_facilities=K)
        model = model.solve(solver)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    chosen = [
        j for j, var in enumerate(model.fac_vars) if var.value() is not None and var.value() > 0.5
    ]
    covered = (distance[:, chosen] <= RADIUS).any(axis=1)
    return Run(
        seconds,
        cpu,
        float(weights[covered].sum()),
        float("nan"),
        float("nan"),
        f"{pulp.LpStatus[model.problem.status]} ({name})",
        capped=seconds >= SPOPT_TIME_LIMIT * 0.98,
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load() -> str:
    # Wall times on a shared machine stretch with its load: CPU times and the load average
    # are printed too, so runs can be compared.
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def main() -> int:
    load_start = load()
    demand, weights, candidates = synthetic_city(SEED)
    cover = cover_matrix(demand, candidates)
    print(
        f"MCLP: {N_DEMAND} demand points × {N_CANDIDATES} candidates, k = {K}, "
        f"radius {RADIUS:.0f} m, {cover.nnz} cover pairs, total weight {weights.sum():.0f}"
    )
    rows: list[tuple[str, Run]] = []
    linli = run_linli(weights, cover, "exact")
    rows.append(("Linli exact (reduced, search + recombination start, HiGHS)", linli))
    rows.append(("Linli heuristic (greedy + swap)", run_linli(weights, cover, "heuristic")))
    plain = run_plain_highspy(weights, cover)
    rows.append(("Plain MIP in highspy (no reductions)", plain))
    spopt = None
    if not SKIP_SPOPT:
        spopt = run_spopt(weights, demand, candidates)
        label = "spopt MCLP + PuLP HiGHS"
        if spopt.capped:
            label += f" (capped at {SPOPT_TIME_LIMIT:.0f} s)"
        rows.append((label, spopt))

    base = linli.seconds
    print()
    print("| Tool | Seconds | CPU s | Covered weight | Proven bound | Gap | Time / Linli exact |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in rows:
        bound = "—" if np.isnan(row.bound) else f"{row.bound:,.0f}"
        gap = "—" if np.isnan(row.gap) else f"{100 * row.gap:.3f} %"
        print(
            f"| {name} | {row.seconds:.2f} | {row.cpu:.2f} | {row.objective:,.0f} | {bound} | "
            f"{gap} | "
            f"{row.seconds / base:.2f}× |"
        )
    stats = linli.reduction
    assert stats is not None
    print()
    print(
        f"Reductions: {stats.demand_in} demand points → {stats.demand_groups} groups, "
        f"{stats.candidates_in} candidates → {stats.candidates_kept} "
        f"({stats.candidates_dominated} dominated, {stats.candidates_useless} useless), "
        f"in {stats.seconds * 1000:.0f} ms."
    )
    print(f"Linli status: {linli.status}; plain: {plain.status}", end="")
    print(f"; spopt: {spopt.status}" if spopt else "")
    print(f"Machine: {machine()}; load average {load_start} at the start, {load()} at the end")
    if spopt is not None:
        print(f"CPU time, spopt / Linli exact: {spopt.cpu / max(linli.cpu, 1e-9):.1f}×")

    failures = []
    if linli.gap > GAP + 1e-12:
        failures.append(f"Linli gap {linli.gap} > {GAP}")
    for name, row in rows[2:]:
        if abs(row.objective - linli.objective) > GAP * max(linli.objective, row.objective):
            failures.append(f"{name}: objective {row.objective} vs Linli {linli.objective}")
    if spopt is not None and spopt.seconds / base < 10:
        failures.append(f"Linli only {spopt.seconds / base:.1f}× faster than spopt (want ≥ 10×)")
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
