"""Participatory budgets: services (writes) and selectors (reads).

A budget moves proposals -> review -> voting -> closed -> published (choices.NEXT_STATE).
Residents propose during `proposals`; the community worker costs each proposal or
finds it infeasible (during proposals or review); verified residents of the
community vote once during `voting`; the result is computed by both rules from the
ballots (equal_shares.py) and the worker publishes one of them.

Dates: `proposals_until` and `voting_until` are local dates (TIME_ZONE), inclusive: a
proposal sent or a ballot cast on that day counts, the next day it is refused with the
reason. A periodic job (jobs.py) closes every vote whose `voting_until` has passed. At
close the ballots are rewritten in a random order under fresh random keys, so not even
the physical order of rows in the table follows the order of casting.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import user_scope
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.regions.choices import RegionLevel
from linli.regions.codes import prefix_of
from linli.regions.models import Region
from linli.residents.models import Resident

from . import access
from .choices import NEXT_STATE, BudgetState, Feasibility, Rule
from .equal_shares import Line, Outcome, Why, equal_shares, greedy
from .models import Ballot, BallotReceipt, Budget, Proposal

logger = logging.getLogger(__name__)


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(fields={field: [_("Enter an amount in yuan.")]}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationFailed(fields={field: [_("The amount must be more than zero.")]})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(fields={field: [_("Give the amount to the fen at most.")]})
    return amount


def _day(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    """A date given as a date or as YYYY-MM-DD; empty is none. Refusals go to `errors`."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(field, []).append(_("Give a date as YYYY-MM-DD."))
        return None


def _lock(budget: Budget) -> Budget:
    return Budget.objects.select_for_update().get(pk=budget.pk)


def _require_state(budget: Budget, *states: str, field: str = "state") -> None:
    if budget.state not in states:
        raise ValidationFailed(
            fields={
                field: [
                    _("This budget is at the stage “%(state)s”; this cannot be done now.")
                    % {"state": budget.get_state_display()}
                ]
            }
        )


def proposals_closed_on(budget: Budget, today: dt.date | None = None) -> dt.date | None:
    """The date proposals closed, when `proposals_until` has passed; None while open."""
    today = today or timezone.localdate()
    if budget.proposals_until is not None and today > budget.proposals_until:
        return budget.proposals_until
    return None


def voting_closed_on(budget: Budget, today: dt.date | None = None) -> dt.date | None:
    """The date voting closed, when `voting_until` has passed; None while open."""
    today = today or timezone.localdate()
    if budget.voting_until is not None and today > budget.voting_until:
        return budget.voting_until
    return None


def _require_date(closed_on: dt.date | None, field: str, text: str) -> None:
    if closed_on is not None:
        raise ValidationFailed(fields={field: [text % {"date": closed_on.isoformat()}]})


# --- services ---------------------------------------------------------------------------


@transaction.atomic
def budget_create(
    *,
    actor: User | None,
    community: Region,
    title: str,
    amount: Decimal | str | int,
    proposals_until: Any = None,
    voting_until: Any = None,
) -> Budget:
    if community.level != RegionLevel.COMMUNITY:
        raise ValidationFailed(fields={"community": [_("Choose a community or village.")]})
    if not access.keeps_community(actor, community.code):
        raise PermissionDenied(_("Only the community's workers can create its budgets."))
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Give the budget a title.")]
    try:
        money = _money(amount, "amount")
    except ValidationFailed as error:
        errors.update(error.fields)
    proposals_day = _day(proposals_until, "proposals_until", errors)
    voting_day = _day(voting_until, "voting_until", errors)
    today = timezone.localdate()
    for field, day in (("proposals_until", proposals_day), ("voting_until", voting_day)):
        if day is not None and day < today:
            errors.setdefault(field, []).append(_("The date cannot be in the past."))
    if proposals_day and voting_day and voting_day < proposals_day:
        errors.setdefault("voting_until", []).append(_("Voting cannot end before proposals close."))
    if errors:
        raise ValidationFailed(fields=errors)
    return Budget.objects.create(
        community=community,
        title=title.strip(),
        amount=money,
        proposals_until=proposals_day,
        voting_until=voting_day,
        created_by=actor,
    )


@transaction.atomic
def proposal_submit(
    *,
    actor: User,
    budget: Budget,
    title: str,
    description: str = "",
    kind: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
) -> Proposal:
    if access.resident_of(actor, budget.community_id) is None:
        raise PermissionDenied(_("Only residents of the community can propose projects."))
    _require_state(budget, BudgetState.PROPOSALS)
    _require_date(
        proposals_closed_on(budget),
        "proposals_until",
        _("Proposals were taken until %(date)s; this one came too late."),
    )
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Give the project a title.")]
    if (latitude is None) != (longitude is None):
        errors["location"] = [_("Give both latitude and longitude, or neither.")]
    elif (
        latitude is not None
        and longitude is not None
        and not (-90 <= latitude <= 90 and -180 <= longitude <= 180)
    ):
        errors["location"] = [_("This is not a place on Earth.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return Proposal.objects.create(
        budget=budget,
        title=title.strip(),
        description=description.strip(),
        kind=kind.strip(),
        proposed_by=actor,
        latitude=latitude,
        longitude=longitude,
    )


@transaction.atomic
def proposal_review(
    *,
    actor: User | None,
    proposal: Proposal,
    feasible: bool,
    cost: Decimal | str | int | None = None,
    reason: str = "",
) -> Proposal:
    budget = _lock(proposal.budget)
    if not access.keeps_community(actor, budget.community_id):
        raise PermissionDenied(_("Only the community's workers can review its proposals."))
    _require_state(budget, BudgetState.PROPOSALS, BudgetState.REVIEW)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if feasible:
        proposal.cost = _money(cost, "cost")
        if proposal.cost > budget.amount:
            raise ValidationFailed(
                fields={"cost": [_("The project costs more than the whole budget.")]}
            )
        proposal.feasibility = Feasibility.FEASIBLE
        proposal.reason = reason.strip()
    else:
        if not reason.strip():
            raise ValidationFailed(fields={"reason": [_("Say why the project is not feasible.")]})
        proposal.feasibility = Feasibility.INFEASIBLE
        proposal.cost = None
        proposal.reason = reason.strip()
    proposal.reviewed_by = actor
    proposal.reviewed_at = timezone.now()
    proposal.save()
    return proposal


def _advance(actor: User | None, budget: Budget, to: str) -> Budget:
    budget = _lock(budget)
    if not access.keeps_community(actor, budget.community_id):
        raise PermissionDenied(_("Only the community's workers can run its budgets."))
    if NEXT_STATE.get(budget.state) != to:
        raise ValidationFailed(
            fields={
                "state": [
                    _("A budget at the stage “%(state)s” cannot move to “%(to)s”.")
                    % {"state": budget.get_state_display(), "to": BudgetState(to).label}
                ]
            }
        )
    budget.state = to
    return budget


@transaction.atomic
def budget_open_review(*, actor: User | None, budget: Budget) -> Budget:
    budget = _advance(actor, budget, BudgetState.REVIEW)
    budget.save(update_fields=["state"])
    return budget


@transaction.atomic
def budget_open_voting(*, actor: User | None, budget: Budget) -> Budget:
    budget = _advance(actor, budget, BudgetState.VOTING)
    if budget.proposals.filter(feasibility=Feasibility.SUBMITTED).exists():
        raise ValidationFailed(
            fields={"state": [_("Review every proposal before the vote opens.")]}
        )
    if not budget.proposals.filter(feasibility=Feasibility.FEASIBLE).exists():
        raise ValidationFailed(fields={"state": [_("There is no feasible project to vote on.")]})
    budget.voting_opened_at = timezone.now()
    budget.save(update_fields=["state", "voting_opened_at"])
    return budget


@transaction.atomic
def ballot_cast(*, actor: User, budget: Budget, approvals: list[int]) -> BallotReceipt:
    """One secret approval ballot: the receipt says who voted, the ballot what, and the
    two are written in this one transaction with nothing joining them."""
    budget = _lock(budget)
    if access.resident_of(actor, budget.community_id) is None:
        raise PermissionDenied(
            _("Only verified residents of %(community)s can vote on its budget.")
            % {"community": budget.community.display_name}
        )
    _require_state(budget, BudgetState.VOTING)
    _require_date(
        voting_closed_on(budget),
        "voting_until",
        _("Voting ended on %(date)s; ballots are no longer taken."),
    )
    if BallotReceipt.objects.filter(budget=budget, voter=actor).exists():
        raise Conflict(_("You have already voted on this budget: one ballot per person."))
    chosen = sorted({int(a) for a in approvals})
    if not chosen:
        raise ValidationFailed(fields={"approvals": [_("Approve at least one project.")]})
    feasible = set(
        budget.proposals.filter(feasibility=Feasibility.FEASIBLE).values_list("id", flat=True)
    )
    unknown = [pk for pk in chosen if pk not in feasible]
    if unknown:
        raise ValidationFailed(
            fields={
                "approvals": [
                    _("These are not feasible projects of this budget: %(ids)s.")
                    % {"ids": ", ".join(str(pk) for pk in unknown)}
                ]
            }
        )
    try:
        with transaction.atomic():
            receipt = BallotReceipt.objects.create(budget=budget, voter=actor)
    except IntegrityError:
        raise Conflict(_("You have already voted on this budget: one ballot per person.")) from None
    Ballot.objects.create(budget=budget, approvals=chosen)
    return receipt


def _shuffle_ballots(budget: Budget) -> int:
    """Delete the budget's ballots and insert them again in a random order with fresh
    uuid4 keys (the caller holds the budget's lock, in one transaction): the heap order
    of rows, which follows insertion, no longer follows the order of casting."""
    approvals = list(
        Ballot.objects.filter(budget=budget).order_by().values_list("approvals", flat=True)
    )
    random.SystemRandom().shuffle(approvals)
    Ballot.objects.filter(budget=budget).delete()
    Ballot.objects.bulk_create(
        [Ballot(id=uuid.uuid4(), budget=budget, approvals=chosen) for chosen in approvals],
        batch_size=1000,
    )
    return len(approvals)


@transaction.atomic
def budget_close(*, actor: User | None, budget: Budget) -> Budget:
    """Close the vote (the community's workers, or the system when voting_until passed)
    and rewrite the ballots in a random order."""
    budget = _advance(actor, budget, BudgetState.CLOSED)
    budget.closed_at = timezone.now()
    budget.save(update_fields=["state", "closed_at"])
    _shuffle_ballots(budget)
    return budget


def budgets_close_due(today: dt.date | None = None) -> dict[str, int]:
    """Close every vote whose voting_until has passed, each in its own transaction (the
    system acts, as a periodic job). Idempotent: a closed budget is no longer voting."""
    today = today or timezone.localdate()
    closed = failed = 0
    due = Budget.objects.filter(state=BudgetState.VOTING, voting_until__lt=today).order_by("pk")
    for budget in due:
        try:
            budget_close(actor=None, budget=budget)
            closed += 1
        except ValidationFailed:
            # Closed by its worker between the query and the lock: nothing left to do.
            continue
        except Exception:
            failed += 1
            logger.exception("Could not close the vote of budget %s", budget.pk)
    if failed:
        raise RuntimeError(f"closed {closed}, {failed} could not be closed")
    return {"closed": closed}


@transaction.atomic
def budget_publish(*, actor: User | None, budget: Budget, rule: str) -> Budget:
    """Publish the result under one rule: the funded projects are then committed sites
    for planning (`funded_projects`)."""
    if rule not in Rule.values:
        raise ValidationFailed(fields={"rule": [_("Choose greedy or equal shares.")]})
    budget = _advance(actor, budget, BudgetState.PUBLISHED)
    results = _compute(budget)
    outcome = results.greedy if rule == Rule.GREEDY else results.equal_shares
    funded = {row.proposal.pk for row in outcome.rows if row.funded}
    budget.proposals.update(funded=None)
    budget.proposals.filter(feasibility=Feasibility.FEASIBLE).exclude(pk__in=funded).update(
        funded=False
    )
    budget.proposals.filter(pk__in=funded).update(funded=True)
    budget.rule = rule
    budget.published_at = timezone.now()
    budget.save(update_fields=["state", "rule", "published_at"])
    return budget


# --- results ----------------------------------------------------------------------------


@dataclass
class Row:
    """One project in one rule's result, with its explanation in words."""

    proposal: Proposal
    votes: int
    funded: bool
    round: int | None
    explanation: str


@dataclass
class RuleResult:
    rule: str
    label: str
    spent: Decimal
    left: Decimal
    rows: list[Row]


@dataclass
class Results:
    budget: Budget
    ballots: int
    receipts: int
    greedy: RuleResult
    equal_shares: RuleResult


def _yuan(value: float) -> str:
    return f"¥{value:,.2f}"


def explain(line: Line, outcome: Outcome, voters: int) -> str:
    """One project's line in words: why it was, or was not, funded."""
    share = outcome.budget / voters if voters else 0.0
    params = {
        "votes": line.votes,
        "cost": _yuan(line.cost),
        "left": _yuan(line.money_left or 0.0),
        "round": line.round,
        "rho": _yuan(line.rho or 0.0),
        "per": f"{(1 / line.rho * 10000) if line.rho else 0:.2f}",
        "have": _yuan(line.supporters_money or 0.0),
        "share": _yuan(share),
    }
    texts = {
        Why.NO_VOTES: _("Not funded: no one approved it."),
        Why.GREEDY_FUNDED: _(
            "Funded (number %(round)s): %(votes)s approvals; it cost %(cost)s "
            "and %(left)s was left when its turn came."
        ),
        Why.GREEDY_SKIPPED: _(
            "Not funded: %(votes)s approvals, but it costs %(cost)s and only %(left)s was "
            "left when its turn came; skipped, and cheaper projects after it were still tried."
        ),
        Why.MES_FUNDED: _(
            "Funded in round %(round)s of equal shares: its %(votes)s supporters paid at most "
            "%(rho)s each (%(per)s effective votes per ¥10,000), the lowest price per supporter "
            "of the projects left."
        ),
        Why.MES_UNAFFORDABLE: _(
            "Not funded: each voter had an equal share of %(share)s; its %(votes)s supporters "
            "had only %(have)s left between them, less than its cost of %(cost)s."
        ),
        Why.COMPLETION_FUNDED: _(
            "Funded in the completion (number %(round)s): equal shares left money unspent; "
            "by approvals (%(votes)s) it was next, and its cost of %(cost)s fitted the "
            "%(left)s left."
        ),
        Why.COMPLETION_SKIPPED: _(
            "Not funded: its supporters could not pay it under equal shares (they had "
            "%(have)s left), and in the completion its cost of %(cost)s did not fit the "
            "%(left)s left."
        ),
    }
    return texts[line.why] % params


def _compute(budget: Budget) -> Results:
    proposals = list(budget.proposals.filter(feasibility=Feasibility.FEASIBLE).order_by("id"))
    column = {p.pk: i for i, p in enumerate(proposals)}
    approvals = list(Ballot.objects.filter(budget=budget).values_list("approvals", flat=True))
    matrix = np.zeros((len(approvals), len(proposals)), dtype=bool)
    for row, chosen in enumerate(approvals):
        matrix[row, [column[pk] for pk in chosen if pk in column]] = True
    costs = np.array([float(p.cost or 0) for p in proposals], dtype=np.float64)
    amount = float(budget.amount)
    voters = len(approvals)

    def shape(outcome: Outcome, rule: Rule) -> RuleResult:
        lines = sorted(
            outcome.lines,
            key=lambda line: (not line.funded, line.round or 0, -line.votes, line.index),
        )
        rows = [
            Row(
                proposal=proposals[line.index],
                votes=line.votes,
                funded=line.funded,
                round=line.round,
                explanation=explain(line, outcome, voters),
            )
            for line in lines
        ]
        spent = sum((proposals[i].cost or Decimal(0) for i in outcome.order), Decimal(0))
        return RuleResult(
            rule=rule.value,
            label=str(rule.label),
            spent=spent,
            left=budget.amount - spent,
            rows=rows,
        )

    return Results(
        budget=budget,
        ballots=voters,
        receipts=BallotReceipt.objects.filter(budget=budget).count(),
        greedy=shape(greedy(costs, matrix, amount), Rule.GREEDY),
        equal_shares=shape(equal_shares(costs, matrix, amount), Rule.EQUAL_SHARES),
    )


def budget_results(*, actor: User | None, budget: Budget) -> Results:
    """Both rules' results, project by project. Anyone may read a published result; the
    community's workers may read it once voting has closed. Nobody sees counts while
    the vote is open."""
    if budget.state == BudgetState.PUBLISHED:
        return _compute(budget)
    if budget.state == BudgetState.CLOSED and access.keeps_community(actor, budget.community_id):
        return _compute(budget)
    raise PermissionDenied(_("The result is not published yet."))


# --- selectors --------------------------------------------------------------------------


def budgets_for(user: User | None) -> QuerySet[Budget]:
    """Budgets a user follows: those of their own community and of the communities they
    work for."""
    if user is None or not user.is_authenticated:
        return Budget.objects.filter(state=BudgetState.PUBLISHED).select_related("community")
    scope = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    home = Resident.objects.filter(user=user, anonymized_at__isnull=True).values("community_id")
    return Budget.objects.filter(
        scope.q("community__code") | Q(community_id__in=home)
    ).select_related("community")


def communities_kept_by(user: User | None) -> QuerySet[Region]:
    """The communities and villages whose budgets `user` may create (they keep them)."""
    if user is None or not user.is_authenticated:
        return Region.objects.none()
    scope = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    return Region.objects.filter(scope.q("code"), level=RegionLevel.COMMUNITY).order_by("code")


def has_voted(user: User | None, budget: Budget) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return BallotReceipt.objects.filter(budget=budget, voter=user).exists()


def funded_projects(region_code: str | None = None) -> QuerySet[Proposal]:
    """Funded proposals of published budgets, with their location: committed sites for
    planning. `region_code` limits them to a region's subtree."""
    found = Proposal.objects.filter(
        funded=True, budget__state=BudgetState.PUBLISHED
    ).select_related("budget", "budget__community")
    if region_code:
        found = found.filter(budget__community__code__startswith=prefix_of(region_code))
    return found.order_by("budget__community_id", "id")
