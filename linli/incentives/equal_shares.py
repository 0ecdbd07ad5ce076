"""The two rules that turn approval ballots into a funded set of projects, on arrays.

Pure numpy, no Django: the services load ballots into a boolean matrix once
(voters x projects) and call these; the benchmark calls them the same way.

* `greedy`: fund projects in order of approvals while the money lasts; a project
  that no longer fits is skipped and the next ones are still tried.
* `equal_shares`: the Method of Equal Shares (Peters & Skowron 2020; Peters,
  Pierczynski & Skowron 2021) with approval utilities, one unit per approved
  project (not cost utilities). Every voter gets an equal part B/n of the budget;
  in each round the project whose cost its supporters can cover with the lowest
  maximal payment rho per supporter is funded (lowest rho = most effective votes
  per yuan, 1/rho), each supporter paying min(own money left, rho). It stops when
  no remaining project can be paid by its supporters. Completion: money MES leaves
  unspent is given out greedily by votes among the unfunded projects that still
  fit ("MES + greedy completion"), not by "add1" budget increases.

Ties (equal rho, equal votes) are broken by more approvals, then lower cost, then
the lower index, so outcomes are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

# Relative tolerance for comparing money and rho: ballots split budgets into
# fractions that floating point does not represent exactly.
EPS = 1e-9


class Why:
    """Stable codes of why a project was, or was not, funded."""

    GREEDY_FUNDED = "greedy_funded"
    GREEDY_SKIPPED = "greedy_skipped"  # did not fit the money left when its turn came
    NO_VOTES = "no_votes"
    MES_FUNDED = "mes_funded"
    MES_UNAFFORDABLE = "mes_unaffordable"  # its supporters' money left was less than its cost
    COMPLETION_FUNDED = "completion_funded"
    COMPLETION_SKIPPED = "completion_skipped"


@dataclass
class Line:
    """One project's place in an outcome, with the figures that explain it."""

    index: int
    cost: float
    votes: int
    funded: bool = False
    why: str = ""
    round: int | None = None  # the order in which it was funded (1 = first)
    rho: float | None = None  # MES: the most any supporter paid
    supporters_money: float | None = None  # MES: what its supporters had left at the end
    money_left: float | None = None  # greedy/completion: the money left at its turn


@dataclass
class Outcome:
    rule: str
    budget: float
    lines: list[Line]
    spent: float = 0.0
    mes_spent: float | None = None  # MES: before completion
    order: list[int] = field(default_factory=list)  # funded indices, in funding order

    @property
    def funded(self) -> list[int]:
        return list(self.order)


def _votes(approvals: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    return approvals.sum(axis=0, dtype=np.int64)


def _greedy_order(votes: npt.NDArray[np.int64], costs: npt.NDArray[np.float64]) -> list[int]:
    # Most approvals first; then cheaper; then lower index.
    return [int(i) for i in np.lexsort((np.arange(len(costs)), costs, -votes))]


def greedy(costs: npt.ArrayLike, approvals: npt.ArrayLike, budget: float) -> Outcome:
    cost = np.asarray(costs, dtype=np.float64)
    matrix = np.asarray(approvals, dtype=bool).reshape(-1, len(cost))
    votes = _votes(matrix)
    lines = [Line(index=i, cost=float(cost[i]), votes=int(votes[i])) for i in range(len(cost))]
    outcome = Outcome(rule="greedy", budget=float(budget), lines=lines)
    left = float(budget)
    for i in _greedy_order(votes, cost):
        line = lines[i]
        line.money_left = left
        if votes[i] == 0:
            line.why = Why.NO_VOTES
        elif cost[i] <= left * (1 + EPS):
            left -= float(cost[i])
            line.funded, line.why = True, Why.GREEDY_FUNDED
            outcome.order.append(i)
            line.round = len(outcome.order)
        else:
            line.why = Why.GREEDY_SKIPPED
    outcome.spent = float(budget) - max(left, 0.0)
    return outcome


def _rho(money: npt.NDArray[np.float64], cost: float) -> float:
    """The least cap rho with sum(min(money_i, rho)) >= cost, or inf if they cannot pay."""
    total = float(money.sum())
    if total < cost * (1 - EPS):
        return float("inf")
    sorted_money = np.sort(money)
    k = len(sorted_money)
    paid_before = np.concatenate(([0.0], np.cumsum(sorted_money)[:-1]))
    # If the j poorest pay all they have and the rest pay rho: rho = (cost - paid)/(k - j).
    caps = (cost - paid_before) / (k - np.arange(k))
    fits = caps <= sorted_money * (1 + EPS)
    j = int(np.argmax(fits)) if fits.any() else k - 1
    return float(max(caps[j], 0.0))


def equal_shares(
    costs: npt.ArrayLike,
    approvals: npt.ArrayLike,
    budget: float,
    *,
    completion: bool = True,
) -> Outcome:
    cost = np.asarray(costs, dtype=np.float64)
    matrix = np.asarray(approvals, dtype=bool).reshape(-1, len(cost))
    n, m = matrix.shape
    votes = _votes(matrix)
    lines = [Line(index=i, cost=float(cost[i]), votes=int(votes[i])) for i in range(m)]
    outcome = Outcome(rule="equal_shares", budget=float(budget), lines=lines)
    if n == 0:
        for line in lines:
            line.why = Why.NO_VOTES
        return outcome
    money = np.full(n, float(budget) / n)
    supporters = [np.flatnonzero(matrix[:, i]) for i in range(m)]
    remaining = {i for i in range(m) if votes[i] > 0}
    # rho only grows as voters spend (their money only shrinks), so the last rho of a
    # project is a lower bound of its next one: check projects in order of that bound
    # and stop as soon as the best found is below the next bound (lazy evaluation).
    bound = {i: float(cost[i]) / float(votes[i]) for i in remaining}
    while remaining:
        best: tuple[float, int, float, int] | None = None
        for i in sorted(remaining, key=lambda j: (bound[j], -votes[j], cost[j], j)):
            if best is not None and bound[i] > best[0] * (1 + EPS):
                break
            rho = _rho(money[supporters[i]], float(cost[i]))
            bound[i] = rho
            if rho == float("inf"):
                remaining.discard(i)  # its supporters' money only shrinks from here
                continue
            key = (rho, -int(votes[i]), float(cost[i]), i)
            if best is None or _better(key, best):
                best = key
        if best is None:
            break
        rho, _, _, chosen = best
        payer = supporters[chosen]
        money[payer] -= np.minimum(money[payer], rho)
        remaining.discard(chosen)
        outcome.order.append(chosen)
        line = lines[chosen]
        line.funded, line.why, line.rho, line.round = True, Why.MES_FUNDED, rho, len(outcome.order)
    spent = float(cost[outcome.order].sum()) if outcome.order else 0.0
    outcome.mes_spent = spent
    for i in range(m):
        line = lines[i]
        if line.funded:
            continue
        if votes[i] == 0:
            line.why = Why.NO_VOTES
            continue
        line.supporters_money = float(money[supporters[i]].sum())
        line.why = Why.MES_UNAFFORDABLE
    if completion:
        left = float(budget) - spent
        for i in _greedy_order(votes, cost):
            line = lines[i]
            if line.funded or votes[i] == 0:
                continue
            line.money_left = left
            if cost[i] <= left * (1 + EPS):
                left -= float(cost[i])
                spent += float(cost[i])
                line.funded, line.why = True, Why.COMPLETION_FUNDED
                outcome.order.append(i)
                line.round = len(outcome.order)
            else:
                line.why = Why.COMPLETION_SKIPPED
    outcome.spent = spent
    return outcome


def _better(key: tuple[float, int, float, int], best: tuple[float, int, float, int]) -> bool:
    rho, best_rho = key[0], best[0]
    if abs(rho - best_rho) > EPS * max(abs(rho), abs(best_rho), 1.0):
        return rho < best_rho
    return key[1:] < best[1:]


def equal_shares_reference(costs: list[float], ballots: list[set[int]], budget: float) -> list[int]:
    """A straightforward pure-Python MES (no completion), for tests and the benchmark:
    every round recomputes every remaining project's rho from its supporters' money."""
    n = len(ballots)
    money = [budget / n] * n if n else []
    backers: list[list[int]] = [[] for _ in costs]
    for v, ballot in enumerate(ballots):
        for i in ballot:
            backers[i].append(v)
    remaining = [i for i in range(len(costs)) if backers[i]]
    funded: list[int] = []
    while True:
        best: tuple[float, int, float, int] | None = None
        for i in remaining:
            payers = sorted(money[v] for v in backers[i])
            if sum(payers) < costs[i] * (1 - EPS):
                continue
            paid, rho = 0.0, 0.0
            for j, have in enumerate(payers):
                rho = (costs[i] - paid) / (len(payers) - j)
                if rho <= have * (1 + EPS):
                    break
                paid += have
            key = (max(rho, 0.0), -len(backers[i]), costs[i], i)
            if best is None or _better(key, best):
                best = key
        if best is None:
            return funded
        rho, chosen = best[0], best[3]
        for v in backers[chosen]:
            money[v] -= min(money[v], rho)
        remaining.remove(chosen)
        funded.append(chosen)
