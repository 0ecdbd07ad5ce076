"""The API: a budget from creation to published result, refusals with field and reason."""

from __future__ import annotations

import pytest

from ..choices import BudgetState
from ..models import Ballot, BallotReceipt
from .factories import budget_in_voting

pytestmark = pytest.mark.django_db


def test_budget_runs_through_the_api(api_client, community, worker, residents, outsider):
    api_client.force_authenticate(worker)
    refused = api_client.post(
        "/api/v1/budgets/",
        {"community": community.code, "title": "t", "amount": "-1"},
        format="json",
    )
    assert refused.status_code == 400
    assert "amount" in refused.json()["fields"]
    made = api_client.post(
        "/api/v1/budgets/",
        {"community": community.code, "title": "微实事", "amount": "100"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    pk = made.json()["id"]

    api_client.force_authenticate(residents[0])
    proposal = api_client.post(
        f"/api/v1/budgets/{pk}/proposals/", {"title": "坡道", "kind": "无障碍"}, format="json"
    )
    assert proposal.status_code == 201, proposal.json()
    proposal_id = proposal.json()["id"]

    api_client.force_authenticate(worker)
    reviewed = api_client.post(
        f"/api/v1/proposals/{proposal_id}/review/", {"feasible": True, "cost": "60"}, format="json"
    )
    assert reviewed.json()["feasibility"] == "feasible"
    for to in ("review", "voting"):
        moved = api_client.post(f"/api/v1/budgets/{pk}/state/", {"to": to}, format="json")
        assert moved.json()["state"] == to

    api_client.force_authenticate(residents[1])
    cast = api_client.post(
        f"/api/v1/budgets/{pk}/ballots/", {"approvals": [proposal_id]}, format="json"
    )
    assert cast.status_code == 201
    again = api_client.post(
        f"/api/v1/budgets/{pk}/ballots/", {"approvals": [proposal_id]}, format="json"
    )
    assert again.status_code == 409
    assert api_client.get(f"/api/v1/budgets/{pk}/").json()["has_voted"] is True
    assert api_client.get(f"/api/v1/budgets/{pk}/results/").status_code == 403

    api_client.force_authenticate(outsider)
    outside = api_client.post(
        f"/api/v1/budgets/{pk}/ballots/", {"approvals": [proposal_id]}, format="json"
    )
    assert outside.status_code == 403
    assert "residents of" in outside.json()["detail"]

    api_client.force_authenticate(worker)
    api_client.post(f"/api/v1/budgets/{pk}/state/", {"to": "closed"}, format="json")
    published = api_client.post(
        f"/api/v1/budgets/{pk}/state/", {"to": "published", "rule": "equal_shares"}, format="json"
    )
    assert published.json()["state"] == BudgetState.PUBLISHED
    api_client.force_authenticate(None)
    results = api_client.get(f"/api/v1/budgets/{pk}/results/").json()
    assert results["ballots"] == results["receipts"] == 1
    assert results["equal_shares"]["rows"][0]["funded"] is True
    assert results["greedy"]["rows"][0]["explanation"].startswith("Funded")


def test_outsider_vote_refused_with_reason(api_client, community, worker, residents, elsewhere):
    from linli.residents.models import Resident

    budget, (project,) = budget_in_voting(
        community=community, worker=worker, proposer=residents[0], costs=[30]
    )
    Resident.objects.filter(user=residents[2]).update(community=elsewhere)  # moved away
    for user in (worker, residents[2]):  # the worker is no resident of it
        api_client.force_authenticate(user)
        refused = api_client.post(
            f"/api/v1/budgets/{budget.pk}/ballots/", {"approvals": [project.pk]}, format="json"
        )
        assert refused.status_code == 403
        assert "residents" in refused.json()["detail"]
    assert Ballot.objects.count() == BallotReceipt.objects.count() == 0
