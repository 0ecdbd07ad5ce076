from django.db import models
from django.utils.translation import gettext_lazy as _


class BudgetState(models.TextChoices):
    PROPOSALS = "proposals", _("Collecting proposals")
    REVIEW = "review", _("Feasibility review")
    VOTING = "voting", _("Voting")
    CLOSED = "closed", _("Voting closed")
    PUBLISHED = "published", _("Result published")


# The single transition map: which state each one may move to.
NEXT_STATE: dict[str, str] = {
    BudgetState.PROPOSALS: BudgetState.REVIEW,
    BudgetState.REVIEW: BudgetState.VOTING,
    BudgetState.VOTING: BudgetState.CLOSED,
    BudgetState.CLOSED: BudgetState.PUBLISHED,
}


class Feasibility(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    FEASIBLE = "feasible", _("Feasible")
    INFEASIBLE = "infeasible", _("Not feasible")


class Rule(models.TextChoices):
    GREEDY = "greedy", _("Most votes first (greedy)")
    EQUAL_SHARES = "equal_shares", _("Method of equal shares")


class PoolState(models.TextChoices):
    """A fund pool is a draft (re-run at will) until an official approves it; approved
    pools and their lines never change (the database refuses it, see migration 0002)."""

    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")


class QualitySource(models.TextChoices):
    """Where a provider's quality figure came from."""

    INDICES = "indices", _("Satisfaction index of the period")
    PRIOR = "prior", _("Prior: no evaluation in the period")
    NEUTRAL = "neutral", _("Middle of the scale: nothing evaluated in the region")


class PoolBound(models.TextChoices):
    FREE = "", _("In proportion to weight")
    FLOOR = "floor", _("Raised to the floor")
    CAP = "cap", _("Held at the cap")
