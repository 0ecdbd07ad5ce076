"""Pages: propose, review, vote with one tap per project, results side by side."""

from __future__ import annotations

import pytest

from ..budgets import budget_close, budget_create, budget_publish
from ..choices import Rule
from ..models import Ballot, Proposal
from .factories import budget_in_voting

pytestmark = pytest.mark.django_db


def test_propose_and_review_pages(client, community, worker, residents):
    budget = budget_create(actor=worker, community=community, title="微实事", amount=100)
    client.force_login(residents[0])
    assert client.get("/budgets/").status_code == 200
    page = client.get(f"/budgets/{budget.pk}/")
    assert b"proposal-form" in page.content
    bad = client.post(f"/budgets/{budget.pk}/", {"title": "", "lat": "", "lon": ""})
    assert bad.status_code == 400
    sent = client.post(
        f"/budgets/{budget.pk}/", {"title": "健身角", "kind": "健身", "lat": "", "lon": ""}
    )
    assert sent.status_code == 302
    proposal = Proposal.objects.get()
    client.force_login(worker)
    client.post(f"/budgets/proposals/{proposal.pk}/review/", {"feasible": "yes", "cost": "45"})
    proposal.refresh_from_db()
    assert proposal.cost == 45
    client.post(f"/budgets/{budget.pk}/next/")
    client.post(f"/budgets/{budget.pk}/next/")
    budget.refresh_from_db()
    assert budget.state == "voting"


def test_vote_and_results_pages(client, community, worker, residents):
    budget, props = budget_in_voting(
        community=community, worker=worker, proposer=residents[0], costs=[60, 50, 30]
    )
    client.force_login(residents[1])
    page = client.get(f"/budgets/{budget.pk}/vote/")
    assert page.content.count(b'name="approve"') == 3
    cast = client.post(f"/budgets/{budget.pk}/vote/", {"approve": [props[0].pk, props[2].pk]})
    assert cast.status_code == 302
    assert Ballot.objects.get().approvals == sorted([props[0].pk, props[2].pk])
    again = client.post(f"/budgets/{budget.pk}/vote/", {"approve": [props[1].pk]})
    assert again.status_code == 409  # a Conflict: one ballot per person
    assert b"already voted" in again.content
    assert client.get(f"/budgets/{budget.pk}/results/").status_code == 403
    budget = budget_close(actor=worker, budget=budget)
    budget_publish(actor=worker, budget=budget, rule=Rule.GREEDY)
    client.logout()
    shown = client.get(f"/budgets/{budget.pk}/results/")
    assert shown.status_code == 200
    assert b'id="rule-greedy"' in shown.content
    assert b'id="rule-equal_shares"' in shown.content
    assert b"Funded in round 1 of equal shares" in shown.content


def test_a_community_worker_opens_a_budget_from_the_list_and_bad_dates_are_refused(
    client, community, worker, residents
):
    import datetime as dt

    from django.utils import timezone

    from ..models import Budget

    today = timezone.localdate()
    client.force_login(residents[0])
    assert b"budget-new" not in client.get("/budgets/").content
    client.force_login(worker)
    assert b"budget-new" in client.get("/budgets/").content
    bad = client.post(
        "/budgets/",
        {
            "community": community.code,
            "title": "微实事",
            "amount": "-5",
            "proposals_until": (today + dt.timedelta(days=20)).isoformat(),
            "voting_until": (today + dt.timedelta(days=10)).isoformat(),
        },
    )
    assert bad.status_code == 400
    assert bad.context["errors"] == {
        "amount": ["The amount must be more than zero."],
        "voting_until": ["Voting cannot end before proposals close."],
    }
    stranger = client.post("/budgets/", {"community": "990102999999", "title": "x", "amount": "10"})
    assert stranger.context["errors"] == {
        "community": ["Choose a community or village you work for."]
    }
    assert not Budget.objects.exists()
    made = client.post(
        "/budgets/",
        {
            "community": community.code,
            "title": "2027年社区微实事",
            "amount": "80000",
            "proposals_until": (today + dt.timedelta(days=10)).isoformat(),
            "voting_until": "",
        },
    )
    budget = Budget.objects.get()
    assert made.url == f"/budgets/{budget.pk}/"
    assert (budget.title, budget.amount, budget.voting_until) == ("2027年社区微实事", 80000, None)
    assert budget.proposals_until == today + dt.timedelta(days=10)
