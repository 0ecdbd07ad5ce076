"""Participatory budget dates: proposals and ballots refused after their day (local date,
inclusive), the job that closes votes whose day has passed, and ballots rewritten in a
random order at close with the counts unchanged."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from linli.core.errors import ValidationFailed
from linli.core.tasks import PERIODIC_JOBS, run_job

from ..budgets import (
    ballot_cast,
    budget_close,
    budget_create,
    budget_results,
    budgets_close_due,
    proposal_submit,
)
from ..choices import BudgetState
from ..jobs import BUDGETS_CLOSE_DUE
from ..models import Ballot, BallotReceipt, Budget
from .conftest import voter
from .factories import budget_in_voting

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


def test_proposals_are_taken_until_their_day_inclusive(community, worker, residents):
    budget = budget_create(
        actor=worker, community=community, title="t", amount=100, proposals_until=today()
    )
    assert proposal_submit(actor=residents[0], budget=budget, title="坡道").title == "坡道"
    Budget.objects.filter(pk=budget.pk).update(proposals_until=today() - dt.timedelta(days=1))
    budget.refresh_from_db()
    with pytest.raises(ValidationFailed) as late:
        proposal_submit(actor=residents[0], budget=budget, title="长椅")
    day = (today() - dt.timedelta(days=1)).isoformat()
    assert late.value.fields == {
        "proposals_until": [f"Proposals were taken until {day}; this one came too late."]
    }
    assert budget.proposals.count() == 1


def test_ballots_are_taken_until_their_day_inclusive(community, worker, residents):
    budget, proposals = budget_in_voting(
        community=community, worker=worker, proposer=residents[0], costs=[40, 60]
    )
    Budget.objects.filter(pk=budget.pk).update(voting_until=today())
    budget.refresh_from_db()
    ballot_cast(actor=residents[0], budget=budget, approvals=[proposals[0].pk])
    Budget.objects.filter(pk=budget.pk).update(voting_until=today() - dt.timedelta(days=1))
    budget.refresh_from_db()
    with pytest.raises(ValidationFailed) as late:
        ballot_cast(actor=residents[1], budget=budget, approvals=[proposals[1].pk])
    day = (today() - dt.timedelta(days=1)).isoformat()
    assert late.value.fields == {
        "voting_until": [f"Voting ended on {day}; ballots are no longer taken."]
    }
    assert (Ballot.objects.count(), BallotReceipt.objects.count()) == (1, 1)


def test_the_job_closes_votes_whose_day_has_passed(community, worker, residents):
    due, proposals = budget_in_voting(
        community=community, worker=worker, proposer=residents[0], costs=[40]
    )
    running, _ = budget_in_voting(
        community=community, worker=worker, proposer=residents[0], costs=[40]
    )
    undated, _ = budget_in_voting(
        community=community, worker=worker, proposer=residents[0], costs=[40]
    )
    ballot_cast(actor=residents[1], budget=due, approvals=[proposals[0].pk])
    Budget.objects.filter(pk=due.pk).update(voting_until=today() - dt.timedelta(days=1))
    Budget.objects.filter(pk=running.pk).update(voting_until=today())
    assert BUDGETS_CLOSE_DUE in {job.name for job in PERIODIC_JOBS}
    run = run_job(BUDGETS_CLOSE_DUE, runner="command")
    assert (run.status, run.detail) == ("ok", "{'closed': 1}")
    states = dict(Budget.objects.values_list("pk", "state"))
    assert states == {
        due.pk: BudgetState.CLOSED,
        running.pk: BudgetState.VOTING,
        undated.pk: BudgetState.VOTING,
    }
    assert Budget.objects.get(pk=due.pk).closed_at is not None
    assert budgets_close_due() == {"closed": 0}
    # Tomorrow the running one is due.
    assert budgets_close_due(today=today() + dt.timedelta(days=1)) == {"closed": 1}


def test_closing_rewrites_the_ballots_with_fresh_keys_and_the_same_counts(
    community, worker, residents
):
    people = residents + [voter(community, f"邻居{i}") for i in range(9)]
    budget, proposals = budget_in_voting(
        community=community, worker=worker, proposer=people[0], costs=[30, 40, 50]
    )
    choices = [[0], [1], [2], [0, 1], [1, 2], [0, 2], [0, 1, 2], [0], [1], [2], [0], [1]]
    for person, chosen in zip(people, choices, strict=True):
        ballot_cast(actor=person, budget=budget, approvals=[proposals[i].pk for i in chosen])
    before_keys = set(Ballot.objects.values_list("pk", flat=True))
    before = Counter(
        tuple(a) for a in Ballot.objects.filter(budget=budget).values_list("approvals", flat=True)
    )
    budget = budget_close(actor=worker, budget=budget)
    after_keys = set(Ballot.objects.values_list("pk", flat=True))
    after = Counter(
        tuple(a) for a in Ballot.objects.filter(budget=budget).values_list("approvals", flat=True)
    )
    assert after == before
    assert len(after_keys) == 12
    assert not after_keys & before_keys  # every key is new
    results = budget_results(actor=worker, budget=budget)
    assert results.ballots == results.receipts == 12
    votes = {row.proposal.pk: row.votes for row in results.greedy.rows}
    assert votes == {proposals[0].pk: 6, proposals[1].pk: 6, proposals[2].pk: 5}


def test_pages_say_why_after_the_day(client, community, worker, residents):
    budget, proposals = budget_in_voting(
        community=community, worker=worker, proposer=residents[0], costs=[40]
    )
    Budget.objects.filter(pk=budget.pk).update(voting_until=today() - dt.timedelta(days=1))
    client.force_login(residents[1])
    page = client.get(f"/budgets/{budget.pk}/vote/")
    assert b'id="voting-closed"' in page.content
    assert b'name="approve"' not in page.content
    refused = client.post(f"/budgets/{budget.pk}/vote/", {"approve": [str(proposals[0].pk)]})
    assert refused.status_code == 400
    assert b'data-field="voting_until"' in refused.content
    detail = client.get(f"/budgets/{budget.pk}/")
    assert b'id="voting-closed"' in detail.content
    proposing = budget_create(actor=worker, community=community, title="t", amount=100)
    Budget.objects.filter(pk=proposing.pk).update(proposals_until=today() - dt.timedelta(days=1))
    page = client.get(f"/budgets/{proposing.pk}/")
    assert b'id="proposals-closed"' in page.content
    assert b'id="proposal-form"' not in page.content
    late = client.post(f"/budgets/{proposing.pk}/", {"title": "长椅"})
    assert late.status_code == 400
    assert b'data-field="proposals_until"' in late.content
