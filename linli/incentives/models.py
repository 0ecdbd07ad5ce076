"""Participatory budgets: a community's money, residents' proposals, secret ballots.

Secrecy: who voted (`BallotReceipt`) is kept apart from what was voted (`Ballot`).
Both are written in one transaction, but a `Ballot` row holds nothing that joins
back to the voter: no user, no time, and a random UUID primary key (uuid4), so
neither the key nor ordering by it reveals the order of casting; results read
ballots ordered by that random key. Funding pools and allocations will live beside
these models in this app.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import BudgetState, Feasibility, Rule


class Budget(models.Model):
    community = models.ForeignKey(
        "regions.Region",
        verbose_name=_("community or village"),
        on_delete=models.PROTECT,
        related_name="participatory_budgets",
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    state = models.CharField(
        _("state"), max_length=10, choices=BudgetState.choices, default=BudgetState.PROPOSALS
    )
    proposals_until = models.DateField(_("proposals until"), null=True, blank=True)
    voting_until = models.DateField(_("voting until"), null=True, blank=True)
    rule = models.CharField(
        _("rule of the published result"), max_length=12, choices=Rule.choices, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    voting_opened_at = models.DateTimeField(_("voting opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("participatory budget")
        verbose_name_plural = _("participatory budgets")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=Decimal("0")), name="budget_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(state=BudgetState.PUBLISHED) | models.Q(rule=""),
                name="budget_rule_only_when_published",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Proposal(models.Model):
    budget = models.ForeignKey(
        Budget, verbose_name=_("budget"), on_delete=models.CASCADE, related_name="proposals"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=100, blank=True, help_text=_("e.g. fitness corner, elderly canteen")
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    feasibility = models.CharField(
        _("feasibility"), max_length=10, choices=Feasibility.choices, default=Feasibility.SUBMITTED
    )
    cost = models.DecimalField(
        _("cost (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    reason = models.TextField(_("reason"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    # Set when the result is published, under the budget's rule.
    funded = models.BooleanField(_("funded"), null=True, blank=True)

    class Meta:
        verbose_name = _("project proposal")
        verbose_name_plural = _("project proposals")
        ordering = ["budget_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(feasibility=Feasibility.FEASIBLE)
                | models.Q(cost__gt=Decimal("0")),
                name="proposal_feasible_has_cost",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class BallotReceipt(models.Model):
    """Who voted, and when: one per voter per budget. Says nothing of what they chose."""

    budget = models.ForeignKey(
        Budget, verbose_name=_("budget"), on_delete=models.CASCADE, related_name="receipts"
    )
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voter"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    cast_at = models.DateTimeField(_("cast at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ballot receipt")
        verbose_name_plural = _("ballot receipts")
        constraints = [
            models.UniqueConstraint(fields=["budget", "voter"], name="ballot_receipt_one_per_voter")
        ]

    def __str__(self) -> str:
        return f"{self.budget_id}/{self.voter_id}"


class Ballot(models.Model):
    """What one voter approved, with nothing that joins back to them (see the module
    docstring): a random key, no user, no time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    budget = models.ForeignKey(
        Budget, verbose_name=_("budget"), on_delete=models.CASCADE, related_name="ballots"
    )
    # Proposal ids, sorted, so the order of taps is not kept either.
    approvals = models.JSONField(_("approved proposals"), default=list)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.id)
