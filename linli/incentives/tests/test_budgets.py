"""Services of participatory budgets: bad input refused with the reason, secret ballots,
results under both rules, funded projects for planning."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from linli.core.errors import Conflict, PermissionDenied, ValidationFailed

from ..budgets import (
    ballot_cast,
    budget_close,
    budget_create,
    budget_open_voting,
    budget_publish,
    budget_results,
    funded_projects,
    proposal_review,
    proposal_submit,
)
from ..choices import BudgetState, Feasibility, Rule
from ..models import Ballot, BallotReceipt, Budget
from .conftest import voter
from .factories import budget_in_voting

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("amount", [0, -5, "abc", "1.001"])
def test_budget_amount_must_be_positive(community, worker, amount):
    with pytest.raises(ValidationFailed) as refused:
        budget_create(actor=worker, community=community, title="t", amount=amount)
    assert "amount" in refused.value.fields


def test_database_refuses_a_budget_of_nothing(community):
    with pytest.raises(IntegrityError), transaction.atomic():
        Budget.objects.create(community=community, title="t", amount=Decimal("0"))


def test_only_the_communitys_worker_creates_budgets(community, residents):
    with pytest.raises(PermissionDenied):
        budget_create(actor=residents[0], community=community, title="t", amount=100)


def test_proposals_only_from_residents_and_only_while_open(community, worker, residents, outsider):
    budget = budget_create(actor=worker, community=community, title="t", amount=100)
    with pytest.raises(PermissionDenied):
        proposal_submit(actor=outsider, budget=budget, title="坡道")
    with pytest.raises(ValidationFailed) as refused:
        proposal_submit(actor=residents[0], budget=budget, title="坡道", latitude=30.0)
    assert "location" in refused.value.fields
    proposal = proposal_submit(
        actor=residents[0], budget=budget, title="坡道", latitude=30.0, longitude=120.0
    )
    assert proposal.feasibility == Feasibility.SUBMITTED
    with pytest.raises(ValidationFailed) as refused:
        budget_open_voting(actor=worker, budget=budget)
    assert "state" in refused.value.fields


def test_review_needs_a_cost_or_a_reason(community, worker, residents):
    budget = budget_create(actor=worker, community=community, title="t", amount=100)
    proposal = proposal_submit(actor=residents[0], budget=budget, title="食堂")
    with pytest.raises(PermissionDenied):
        proposal_review(actor=residents[0], proposal=proposal, feasible=True, cost=10)
    with pytest.raises(ValidationFailed) as refused:
        proposal_review(actor=worker, proposal=proposal, feasible=False)
    assert "reason" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        proposal_review(actor=worker, proposal=proposal, feasible=True, cost=101)
    assert "cost" in refused.value.fields
    done = proposal_review(actor=worker, proposal=proposal, feasible=False, reason="无场地")
    assert (done.feasibility, done.reason, done.cost) == (Feasibility.INFEASIBLE, "无场地", None)


def test_vote_is_refused_with_the_reason(community, worker, residents, outsider):
    budget, (first, second) = budget_in_voting(
        community=community, worker=worker, proposer=residents[0], costs=[30, 40]
    )
    with pytest.raises(PermissionDenied):
        ballot_cast(actor=outsider, budget=budget, approvals=[first.pk])
    with pytest.raises(ValidationFailed) as refused:
        ballot_cast(actor=residents[0], budget=budget, approvals=[first.pk, 999999])
    assert "999999" in refused.value.fields["approvals"][0]
    with pytest.raises(ValidationFailed):
        ballot_cast(actor=residents[0], budget=budget, approvals=[])
    ballot_cast(actor=residents[0], budget=budget, approvals=[first.pk, second.pk])
    with pytest.raises(Conflict):
        ballot_cast(actor=residents[0], budget=budget, approvals=[first.pk])
    budget = budget_close(actor=worker, budget=budget)
    with pytest.raises(ValidationFailed) as refused:
        ballot_cast(actor=residents[1], budget=budget, approvals=[first.pk])
    assert "state" in refused.value.fields
    assert Ballot.objects.count() == BallotReceipt.objects.count() == 1


def test_an_infeasible_project_cannot_be_approved(community, worker, residents):
    budget = budget_create(actor=worker, community=community, title="t", amount=100)
    good = proposal_submit(actor=residents[0], budget=budget, title="健身角")
    bad = proposal_submit(actor=residents[0], budget=budget, title="游泳池")
    proposal_review(actor=worker, proposal=good, feasible=True, cost=50)
    proposal_review(actor=worker, proposal=bad, feasible=False, reason="太贵")
    from ..budgets import budget_open_review

    budget = budget_open_voting(
        actor=worker, budget=budget_open_review(actor=worker, budget=budget)
    )
    with pytest.raises(ValidationFailed):
        ballot_cast(actor=residents[0], budget=budget, approvals=[bad.pk])


def test_an_anonymized_resident_does_not_vote(community, worker, residents):
    from linli.residents.models import Resident

    budget, (first,) = budget_in_voting(
        community=community, worker=worker, proposer=residents[0], costs=[30]
    )
    Resident.objects.filter(user=residents[1]).update(anonymized_at=timezone.now())
    with pytest.raises(PermissionDenied):
        ballot_cast(actor=residents[1], budget=budget, approvals=[first.pk])


def test_ballots_do_not_join_back_to_voters(community, worker, residents):
    budget, proposals = budget_in_voting(
        community=community, worker=worker, proposer=residents[0], costs=[30, 40]
    )
    for user in residents:
        ballot_cast(actor=user, budget=budget, approvals=[proposals[0].pk])
    for field in Ballot._meta.get_fields():
        assert not isinstance(field, models.DateField | models.DateTimeField), field.name
        if field.is_relation:
            assert field.related_model is Budget, field.name
    assert Ballot.objects.filter(budget=budget).count() == 3
    assert BallotReceipt.objects.filter(budget=budget).count() == 3
    assert set(BallotReceipt.objects.values_list("voter", flat=True)) == {u.pk for u in residents}


def test_from_proposals_to_published_result(community, worker, residents):
    # Six neighbours want the A projects, four the B ones: MES funds one B, greedy none.
    people = residents + [voter(community, f"邻居{i}") for i in range(7)]
    budget, props = budget_in_voting(
        community=community, worker=worker, proposer=people[0], costs=[30] * 5
    )
    for user in people[:6]:
        ballot_cast(actor=user, budget=budget, approvals=[p.pk for p in props[:3]])
    for user in people[6:]:
        ballot_cast(actor=user, budget=budget, approvals=[p.pk for p in props[3:]])
    with pytest.raises(PermissionDenied):
        budget_results(actor=worker, budget=budget)
    budget = budget_close(actor=worker, budget=budget)
    with pytest.raises(PermissionDenied):
        budget_results(actor=people[0], budget=budget)
    results = budget_results(actor=worker, budget=budget)
    assert results.ballots == results.receipts == 10
    greedy_funded = [row.proposal.pk for row in results.greedy.rows if row.funded]
    mes_funded = [row.proposal.pk for row in results.equal_shares.rows if row.funded]
    assert greedy_funded == [p.pk for p in props[:3]]
    assert mes_funded == [props[0].pk, props[1].pk, props[3].pk]
    assert results.equal_shares.spent == Decimal("90")
    assert results.greedy.left == Decimal("10")
    assert all(row.explanation for row in results.equal_shares.rows)
    assert (
        "¥7.50" in next(r for r in results.equal_shares.rows if r.proposal == props[3]).explanation
    )
    assert funded_projects().count() == 0
    with pytest.raises(ValidationFailed):
        budget_publish(actor=worker, budget=budget, rule="lottery")
    budget = budget_publish(actor=worker, budget=budget, rule=Rule.EQUAL_SHARES)
    assert (budget.state, budget.rule) == (BudgetState.PUBLISHED, Rule.EQUAL_SHARES)
    assert list(funded_projects(community.code)) == [props[0], props[1], props[3]]
    assert list(funded_projects("990102002000")) == []
    assert budget_results(actor=None, budget=budget).ballots == 10
