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
