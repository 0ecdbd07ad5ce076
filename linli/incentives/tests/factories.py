"""A budget taken to the voting stage with costed proposals, for the tests."""

from __future__ import annotations

from decimal import Decimal

from linli.accounts.models import User
from linli.regions.models import Region

from ..budgets import (
    budget_create,
    budget_open_review,
    budget_open_voting,
    proposal_review,
    proposal_submit,
)
from ..models import Budget, Proposal


def budget_in_voting(
    *, community: Region, worker: User, proposer: User, costs: list[int], amount: int = 100
) -> tuple[Budget, list[Proposal]]:
    budget = budget_create(actor=worker, community=community, title="2026 微实事", amount=amount)
    proposals = [
        proposal_submit(actor=proposer, budget=budget, title=f"项目{i}", kind="健身角")
        for i in range(len(costs))
    ]
    budget = budget_open_review(actor=worker, budget=budget)
    reviewed = [
        proposal_review(actor=worker, proposal=p, feasible=True, cost=Decimal(c))
        for p, c in zip(proposals, costs, strict=True)
    ]
    budget = budget_open_voting(actor=worker, budget=budget)
    return budget, reviewed
