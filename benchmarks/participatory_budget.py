"""Benchmark: results of a participatory budget with 200 projects and 20,000 ballots.

A synthetic, seeded instance: 200 projects costing ¥20,000 to ¥500,000, a budget of a
fifth of their total cost, and 20,000 approval ballots in which project j is approved
with its own popularity (drawn from Beta(1, 12), about 16 approvals per ballot on
average, some projects far more popular than others). It times, on the same
instance:

- **greedy**: `linli.incentives.equal_shares.greedy` (fund by approvals while the money
  lasts);
- **MES**: `linli.incentives.equal_shares.equal_shares` with approval utilities and
  the greedy completion, numpy with lazy rho updates; and MES alone (no completion);
- **reference**: pabutools' `method_of_equal_shares` with `Cardinality_Sat` (approval
  utilities) when pabutools can be imported, otherwise the straightforward pure-Python
  MES of `equal_shares_reference` (every round recomputes every project). The two MES
  outcomes must be the same set of projects, or the benchmark fails.

It needs no database and no Django: only numpy (and pabutools, if present).

    make bench        # or: .venv/bin/python benchmarks/participatory_budget.py
    BENCH_BALLOTS=2000 .venv/bin/python benchmarks/participatory_budget.py   # a quick look
    # against pabutools, from a scratch environment that has it (not a project dependency):
    PYTHONPATH=. /tmp/pabu_venv/bin/python benchmarks/participatory_budget.py
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linli.incentives.equal_shares import (  # after the path is set
    equal_shares,
    equal_shares_reference,
    greedy,
)

PROJECTS = int(os.environ.get("BENCH_PROJECTS", "200"))
BALLOTS = int(os.environ.get("BENCH_BALLOTS", "20000"))
SEED = 20261130
T = TypeVar("T")


def instance() -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(SEED)
    costs = rng.integers(20, 501, size=PROJECTS).astype(np.float64) * 1000
    popularity = rng.beta(1, 12, size=PROJECTS)
    approvals = rng.random((BALLOTS, PROJECTS)) < popularity
    return costs, approvals, float(costs.sum() // 5)


def timed(label: str, run: Callable[[], T], repeat: int = 3) -> T:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<58} {best:8.3f} s")
    return result


def pabutools_mes(costs: np.ndarray, approvals: np.ndarray, budget: float) -> list[int]:
    # Imported by name: pabutools is an optional extra, not a project dependency.
    election_module = importlib.import_module("pabutools.election")
    rules = importlib.import_module("pabutools.rules")
    projects = [election_module.Project(str(i), int(c)) for i, c in enumerate(costs)]
    election = election_module.Instance(projects, budget_limit=int(budget))
    profile = election_module.ApprovalProfile(
        [
            election_module.ApprovalBallot([projects[i] for i in np.flatnonzero(row)])
            for row in approvals
        ]
    )
    funded = rules.method_of_equal_shares(election, profile, election_module.Cardinality_Sat)
    return sorted(int(p.name) for p in funded)


def main() -> None:
    costs, approvals, budget = instance()
    print(
        f"{PROJECTS} projects, {BALLOTS} ballots, {approvals.sum() / BALLOTS:.1f} approvals "
        f"per ballot, budget ¥{budget:,.0f} (seed {SEED})"
    )
    start = time.perf_counter()
    votes = approvals.sum(axis=0)
    print(f"{'counting approvals (numpy)':<58} {time.perf_counter() - start:8.3f} s")
    g = timed("greedy by votes", lambda: greedy(costs, approvals, budget))
    m = timed(
        "MES, approval utilities, + greedy completion (numpy)",
        lambda: equal_shares(costs, approvals, budget),
    )
    plain = timed(
        "MES alone, no completion (numpy)",
        lambda: equal_shares(costs, approvals, budget, completion=False),
    )
    if importlib.util.find_spec("pabutools") is not None:
        reference_label = "pabutools method_of_equal_shares (Cardinality_Sat)"
        reference = timed(reference_label, lambda: pabutools_mes(costs, approvals, budget), 1)
    else:
        ballots = [set(np.flatnonzero(row).tolist()) for row in approvals]
        reference_label = "pure-Python MES reference (pabutools not installed)"
        reference = timed(
            reference_label, lambda: equal_shares_reference(costs.tolist(), ballots, budget), 1
        )
    same = sorted(plain.order) == sorted(reference)
    print(
        f"greedy funds {len(g.order)} projects (¥{g.spent:,.0f}); MES {len(plain.order)} "
        f"(¥{plain.mes_spent:,.0f}), with completion {len(m.order)} (¥{m.spent:,.0f}); "
        f"highest-voted project {int(votes.max())} approvals"
    )
    print(f"MES outcome equal to {reference_label.split(' (')[0]}: {same}")
    if not same:
        raise SystemExit("MES differs from the reference")


if __name__ == "__main__":
    main()
