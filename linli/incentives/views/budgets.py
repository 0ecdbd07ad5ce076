"""Pages of participatory budgets: the list, a budget with its proposals (submit, review,
next stage), the voting page, the results under both rules side by side.

Rules live in budgets.py: views parse, call, and render.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.models import User
from linli.core.errors import LinliError, ValidationFailed

from .. import access
from ..budgets import (
    ballot_cast,
    budget_close,
    budget_create,
    budget_open_review,
    budget_open_voting,
    budget_publish,
    budget_results,
    budgets_for,
    communities_kept_by,
    has_voted,
    proposal_review,
    proposal_submit,
    proposals_closed_on,
    voting_closed_on,
)
from ..choices import NEXT_STATE, BudgetState, Feasibility, Rule
from ..models import Budget, Proposal

# A community worker keeps one or a few communities; a district official many. The form
# lists this many and no more (a longer list is no choice at all).
MAX_COMMUNITY_CHOICES = 300


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _errors(error: LinliError) -> dict[str, list[str]]:
    return error.fields or {"form": [error.message]}


def _budget(request: HttpRequest, pk: int) -> Budget:
    found = budgets_for(_user(request)).filter(pk=pk).first()
    if found is None:
        raise Http404(_("No such participatory budget."))
    return found


def _float(value: str) -> float | None:
    try:
        return float(value) if value.strip() else None
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def budget_list(request: HttpRequest) -> HttpResponse:
    """The budgets a user follows; a community worker opens a new one here."""
    user = _user(request)
    kept = communities_kept_by(user)
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        fields = ("community", "title", "amount", "proposals_until", "voting_until")
        values = {k: request.POST.get(k, "").strip() for k in fields}
        community = kept.filter(code=values["community"]).first()
        try:
            if community is None:
                raise ValidationFailed(
                    fields={"community": [_("Choose a community or village you work for.")]}
                )
            budget = budget_create(
                actor=user,
                community=community,
                title=values["title"],
                amount=values["amount"],
                proposals_until=values["proposals_until"],
                voting_until=values["voting_until"],
            )
        except LinliError as error:
            errors = _errors(error)
        else:
            messages.success(request, _("The budget is open for proposals."))
            return HttpResponseRedirect(reverse("incentives:budget", args=[budget.pk]))
    return render(
        request,
        "incentives/budget_list.html",
        {
            "budgets": budgets_for(user),
            "communities": kept[:MAX_COMMUNITY_CHOICES],
            "errors": errors,
            "values": values,
        },
        status=400 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The budget's proposals; residents propose here while proposals are open."""
    budget = _budget(request, pk)
    user = _user(request)
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        values = {
            k: request.POST.get(k, "") for k in ("title", "description", "kind", "lat", "lon")
        }
        try:
            proposal_submit(
                actor=user,
                budget=budget,
                title=values["title"],
                description=values["description"],
                kind=values["kind"],
                latitude=_float(values["lat"]),
                longitude=_float(values["lon"]),
            )
        except LinliError as error:
            errors = _errors(error)
        else:
            messages.success(
                request, _("Your proposal was sent: the community worker will cost it.")
            )
            return HttpResponseRedirect(reverse("incentives:budget", args=[budget.pk]))
    keeper = access.keeps_community(user, budget.community_id)
    proposals_closed = proposals_closed_on(budget)
    voting_closed = voting_closed_on(budget)
    context: dict[str, Any] = {
        "budget": budget,
        "proposals": budget.proposals.all(),
        "keeper": keeper,
        "may_propose": budget.state == BudgetState.PROPOSALS
        and proposals_closed is None
        and access.resident_of(user, budget.community_id) is not None,
        "proposals_closed_on": proposals_closed if budget.state == BudgetState.PROPOSALS else None,
        "voting_closed_on": voting_closed if budget.state == BudgetState.VOTING else None,
        "may_review": keeper and budget.state in (BudgetState.PROPOSALS, BudgetState.REVIEW),
        "next_state": NEXT_STATE.get(budget.state),
        "next_label": BudgetState(NEXT_STATE[budget.state]).label
        if budget.state in NEXT_STATE
        else "",
        "rules": Rule.choices,
        "has_voted": has_voted(user, budget),
        "errors": errors,
        "values": values,
        "states": BudgetState,
    }
    return render(request, "incentives/budget_detail.html", context, status=400 if errors else 200)


@login_required
@require_POST
def proposal_review_page(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = Proposal.objects.filter(pk=pk, budget__in=budgets_for(_user(request))).first()
    if proposal is None:
        raise Http404(_("No such proposal."))
    feasible = request.POST.get("feasible") == "yes"
    try:
        proposal_review(
            actor=_user(request),
            proposal=proposal,
            feasible=feasible,
            cost=request.POST.get("cost") or None,
            reason=request.POST.get("reason", ""),
        )
    except LinliError as error:
        for reasons in _errors(error).values():
            for reason in reasons:
                messages.error(request, f"{proposal.title}: {reason}")
    return HttpResponseRedirect(
        reverse("incentives:budget", args=[proposal.budget_id]) + f"#proposal-{proposal.pk}"
    )


@login_required
@require_POST
def budget_advance(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _budget(request, pk)
    actor = _user(request)
    steps = {
        BudgetState.PROPOSALS: lambda: budget_open_review(actor=actor, budget=budget),
        BudgetState.REVIEW: lambda: budget_open_voting(actor=actor, budget=budget),
        BudgetState.VOTING: lambda: budget_close(actor=actor, budget=budget),
        BudgetState.CLOSED: lambda: budget_publish(
            actor=actor, budget=budget, rule=request.POST.get("rule", "")
        ),
    }
    try:
        if budget.state not in steps:
            raise LinliError(_("This budget has no further stage."))
        steps[BudgetState(budget.state)]()
    except LinliError as error:
        for reasons in _errors(error).values():
            for reason in reasons:
                messages.error(request, reason)
    return HttpResponseRedirect(reverse("incentives:budget", args=[budget.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def vote(request: HttpRequest, pk: int) -> HttpResponse:
    """One tap per project to approve it, as many as the voter likes, one submit. Open to
    any signed-in user, so someone from elsewhere is told why they cannot vote."""
    budget = Budget.objects.filter(pk=pk).select_related("community").first()
    if budget is None:
        raise Http404(_("No such participatory budget."))
    errors: dict[str, list[str]] = {}
    chosen: list[int] = []
    status = 200
    if request.method == "POST":
        try:
            chosen = [int(v) for v in request.POST.getlist("approve")]
            ballot_cast(actor=_user(request), budget=budget, approvals=chosen)
        except ValueError:
            errors, status = {"approvals": [_("Choose projects from the list.")]}, 400
        except LinliError as error:
            errors, status = _errors(error), error.status
        else:
            messages.success(
                request, _("Your ballot was cast. It is secret: nobody can see what you chose.")
            )
            return HttpResponseRedirect(reverse("incentives:budget", args=[budget.pk]))
    voting_closed = voting_closed_on(budget) if budget.state == BudgetState.VOTING else None
    context = {
        "budget": budget,
        "proposals": budget.proposals.filter(feasibility=Feasibility.FEASIBLE),
        "open": budget.state == BudgetState.VOTING and voting_closed is None,
        "voting_closed_on": voting_closed,
        "eligible": access.resident_of(_user(request), budget.community_id) is not None,
        "has_voted": has_voted(_user(request), budget),
        "chosen": chosen,
        "errors": errors,
    }
    return render(request, "incentives/vote.html", context, status=status)


@require_GET
def results(request: HttpRequest, pk: int) -> HttpResponse:
    """Both rules side by side, each project with why it was, or was not, funded."""
    budget = Budget.objects.filter(pk=pk).select_related("community").first()
    if budget is None:
        raise Http404(_("No such participatory budget."))
    user = _user(request) if request.user.is_authenticated else None
    try:
        found = budget_results(actor=user, budget=budget)
    except LinliError as error:
        return render(
            request,
            "incentives/results.html",
            {"budget": budget, "refused": error.message},
            status=403,
        )
    return render(request, "incentives/results.html", {"budget": budget, "results": found})


urlpatterns = [
    path("budgets/", budget_list, name="budgets"),
    path("budgets/<int:pk>/", budget_detail, name="budget"),
    path("budgets/<int:pk>/next/", budget_advance, name="budget_advance"),
    path("budgets/<int:pk>/vote/", vote, name="vote"),
    path("budgets/<int:pk>/results/", results, name="results"),
    path("budgets/proposals/<int:pk>/review/", proposal_review_page, name="proposal_review"),
]
