"""The demo: one budget published under equal shares with funded sites, one voting."""

from __future__ import annotations

import pytest

from ..budgets import budget_results, funded_projects
from ..choices import BudgetState, Rule
from ..models import Ballot, BallotReceipt, Budget

pytestmark = pytest.mark.django_db


def test_demo_budgets(demo):
    published = Budget.objects.get(state=BudgetState.PUBLISHED)
    assert published.rule == Rule.EQUAL_SHARES
    assert Budget.objects.filter(state=BudgetState.VOTING).count() == 1
    assert Ballot.objects.count() == BallotReceipt.objects.count() > 0
    funded = list(funded_projects())
    assert funded
    assert all(p.latitude is not None for p in funded)
    results = budget_results(actor=None, budget=published)
    assert results.equal_shares.spent <= published.amount
    assert {r.proposal.pk for r in results.equal_shares.rows if r.funded} == {p.pk for p in funded}
