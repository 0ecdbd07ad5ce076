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

from .choices import BudgetState, Feasibility, PoolBound, PoolState, QualitySource, Rule


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


# --- Incentive fund pools (funds.py) ------------------------------------------------------


class FundPool(models.Model):
    """Money an official shares among the providers serving a region over a period.

    The period is written as officials say it, both days included ("1 July to 30
    September"); the computations read it as the half-open [period_start, period_end + 1
    day). While a draft, the allocation is a dry run recomputed on every view; approval
    writes the lines (`FundAllocation`) and freezes the pool, parameters included.
    """

    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="fund_pools",
    )
    title = models.CharField(_("title"), max_length=200)
    period_start = models.DateField(_("first day"))
    period_end = models.DateField(_("last day"), help_text=_("included"))
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    floor = models.DecimalField(
        _("floor per provider (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    cap = models.DecimalField(
        _("cap per provider (yuan)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("empty: no cap"),
    )
    min_services = models.PositiveIntegerField(_("least verified services to take part"), default=1)
    state = models.CharField(
        _("state"), max_length=10, choices=PoolState.choices, default=PoolState.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set at approval, with the parameters the figures were computed with.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    prior_weight = models.FloatField(_("prior weight (ratings)"), null=True, blank=True)
    complaint_penalty = models.FloatField(_("complaint penalty (points)"), null=True, blank=True)
    fingerprint = models.CharField(_("fingerprint of the inputs"), max_length=64, blank=True)
    total_weight = models.DecimalField(
        _("total weight"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    # Yuan per weight point paid to the lines neither floored nor capped (empty: none).
    rate = models.DecimalField(
        _("yuan per weight point"), max_digits=20, decimal_places=8, null=True, blank=True
    )
    allocated = models.DecimalField(
        _("allocated (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    unallocated = models.DecimalField(
        _("not allocated (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("incentive fund pool")
        verbose_name_plural = _("incentive fund pools")
        ordering = ["-period_end", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=Decimal("0")), name="fundpool_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(floor__gte=Decimal("0")), name="fundpool_floor_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(cap__isnull=True) | models.Q(cap__gte=models.F("floor")),
                name="fundpool_cap_not_below_floor",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="fundpool_period_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(state=PoolState.DRAFT)
                | models.Q(
                    approved_by__isnull=False,
                    approved_at__isnull=False,
                    allocated__isnull=False,
                    unallocated__isnull=False,
                    prior_weight__isnull=False,
                    complaint_penalty__isnull=False,
                ),
                name="fundpool_approved_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_approved(self) -> bool:
        return self.state == PoolState.APPROVED


class FundAllocation(models.Model):
    """One provider's line of an approved pool, with every figure its explanation uses.

    Written once at approval; the database refuses any change afterwards."""

    pool = models.ForeignKey(
        FundPool, verbose_name=_("pool"), on_delete=models.PROTECT, related_name="lines"
    )
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="fund_allocations",
    )
    position = models.PositiveIntegerField(_("position"))
    services = models.PositiveIntegerField(_("verified services"))
    evaluations = models.PositiveIntegerField(_("evaluations"))
    mean = models.DecimalField(
        _("mean rating"), max_digits=6, decimal_places=4, null=True, blank=True
    )
    prior = models.DecimalField(_("prior"), max_digits=6, decimal_places=4, null=True, blank=True)
    smoothed = models.DecimalField(
        _("smoothed rating"), max_digits=6, decimal_places=4, null=True, blank=True
    )
    complaints = models.PositiveIntegerField(_("complaints"))
    complaint_rate = models.DecimalField(
        _("complaint rate"), max_digits=8, decimal_places=4, null=True, blank=True
    )
    quality = models.DecimalField(_("quality"), max_digits=4, decimal_places=2)
    quality_source = models.CharField(
        _("quality from"), max_length=10, choices=QualitySource.choices
    )
    weight = models.DecimalField(_("weight"), max_digits=16, decimal_places=2)
    share = models.DecimalField(_("share of all weight"), max_digits=9, decimal_places=8)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    bound = models.CharField(
        _("bound"), max_length=5, choices=PoolBound.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("fund allocation line")
        verbose_name_plural = _("fund allocation lines")
        ordering = ["pool_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "organization"], name="fundallocation_one_per_provider"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=Decimal("0")), name="fundallocation_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pool_id}/{self.organization_id}: {self.amount}"
