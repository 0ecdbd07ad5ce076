"""Incentive fund pools: services (writes), selectors (reads), explanations, the workbook.

An official creates a pool (region, period, amount, floor and cap per provider). While
it is a draft, `pool_dry_run` proposes an allocation from the period's verified
services and satisfaction indices; `pool_approve` recomputes it under a row lock,
checks it is what the official reviewed (the fingerprint) and writes the lines, which
the database then keeps immutable (migration 0003).

Choices, written down because they move money:

- Verified completed service: a request delivered by a responder of the provider,
  completed within the period (``completed_at``), in a community inside the pool's
  region, and confirmed: either it is in state ``confirmed``, or it was confirmed and
  then closed as ``resolved``. A request closed without confirmation, or closed as not
  resolved, does not count: the time bank pays volunteers on the same confirmation
  (volunteers.redemptions.request_confirmed), and money should follow the same proof.
- Quality: the provider's ``quality`` from the satisfaction indices of the same period
  and region (evaluations.indices: smoothed mean less the complaint penalty, 1 to 5),
  rounded to two decimals before it is used, so that the arithmetic shown in each line
  is exactly the arithmetic done. A provider with verified services but no evaluation
  in the period gets its prior: the period's mean rating of the services it delivered,
  weighted by how many it delivered (the indices' own prior), less the penalty per
  complaint per verified service. If nothing at all was evaluated in the region, every
  provider gets 3, the middle of the scale, and money follows services alone.
- Weight = verified services × quality; amounts by `allocation.allocate`
  (proportional, then floor and cap by water-filling, rounded to the fen).
- The region filter is the region's code prefix (``Region.prefix``): region codes are
  paths, so a street's prefix matches its communities.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, cast

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from linli.accounts.choices import Role
from linli.accounts.models import RoleAssignment, User
from linli.accounts.selectors import staff_organizations, user_scope
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.directory.models import Organization
from linli.evaluations.indices import complaint_penalty, compute_all_indices, prior_weight
from linli.notifications.services import notify_text
from linli.regions.models import Region
from linli.requests.choices import Action, Outcome, State
from linli.requests.models import RequestEvent, ServiceRequest

from . import access
from .allocation import FloorsExceedTotal, allocate
from .choices import PoolBound, PoolState, QualitySource
from .models import FundAllocation, FundPool

FEN = Decimal("0.01")
NEUTRAL_QUALITY = Decimal("3.00")


# --- input ------------------------------------------------------------------------------


def _money(value: Any, field: str, errors: dict[str, list[str]], *, positive: bool) -> Decimal:
    """A yuan amount to the fen; records the reason under `field` when it is not one."""
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        errors[field] = [_("Enter an amount in yuan.")]
        return Decimal(0)
    if not amount.is_finite():
        errors[field] = [_("Enter an amount in yuan.")]
    elif positive and amount <= 0:
        errors[field] = [_("The amount must be more than zero.")]
    elif amount < 0:
        errors[field] = [_("The amount cannot be negative.")]
    elif amount != amount.quantize(FEN):
        errors[field] = [_("Give the amount to the fen at most.")]
    elif amount >= Decimal("1e12"):
        errors[field] = [_("The amount is too large.")]
    else:
        return amount.quantize(FEN)
    return amount


def _date(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = [_("Enter a date as YYYY-MM-DD.")]
        return None


# --- services ---------------------------------------------------------------------------


@transaction.atomic
def pool_create(
    *,
    actor: User | None,
    region: Region,
    title: str,
    period_start: dt.date | str,
    period_end: dt.date | str,
    amount: Decimal | str | int,
    floor: Decimal | str | int = Decimal(0),
    cap: Decimal | str | int | None = None,
    min_services: int = 1,
) -> FundPool:
    """A draft pool. The period's both days are included."""
    if not access.allocates_in(actor, region.code):
        raise PermissionDenied(
            _("Only officials of %(region)s can create its fund pools.")
            % {"region": region.display_name}
        )
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Give the pool a title.")]
    start = _date(period_start, "period_start", errors)
    end = _date(period_end, "period_end", errors)
    if start and end and end < start:
        errors["period_end"] = [_("The last day comes before the first day.")]
    money = _money(amount, "amount", errors, positive=True)
    least = _money(floor if floor not in (None, "") else 0, "floor", errors, positive=False)
    most = None
    if cap not in (None, ""):
        most = _money(cap, "cap", errors, positive=False)
        if "cap" not in errors and "floor" not in errors and most < least:
            errors["cap"] = [_("The cap cannot be below the floor.")]
    if "floor" not in errors and "amount" not in errors and least > money:
        errors["floor"] = [_("The floor cannot be more than the whole pool.")]
    if isinstance(min_services, bool) or not isinstance(min_services, int) or min_services < 1:
        errors["min_services"] = [_("Give a whole number of at least 1.")]
    if errors or start is None or end is None:
        raise ValidationFailed(fields=errors)
    return FundPool.objects.create(
        region=region,
        title=title.strip(),
        period_start=start,
        period_end=end,
        amount=money,
        floor=least,
        cap=most,
        min_services=min_services,
        created_by=actor,
    )


def _may_allocate(actor: User | None, pool: FundPool) -> None:
    if not access.allocates_in(actor, pool.region_id):
        raise PermissionDenied(_("Only officials of the pool's region can allocate it."))


def pool_dry_run(*, actor: User | None, pool: FundPool) -> Plan:
    """The allocation the pool would get now, line by line, with its fingerprint."""
    _may_allocate(actor, pool)
    if pool.is_approved:
        raise Conflict(_("This pool is approved: its allocation is final."))
    plan = compute_plan(pool)
    if plan.problem_field == "floor":
        raise ValidationFailed(fields={"floor": [plan.problem]})
    return plan


@transaction.atomic
def pool_approve(*, actor: User | None, pool: FundPool, fingerprint: str) -> FundPool:
    """Approve the allocation the official reviewed: recomputed under the pool's row lock,
    refused if any figure changed since the dry run, then written for good."""
    pool = FundPool.objects.select_for_update().select_related("region").get(pk=pool.pk)
    _may_allocate(actor, pool)
    if pool.is_approved:
        raise Conflict(_("This pool was already approved."))
    today = timezone.localdate()
    if pool.period_end >= today:
        raise ValidationFailed(
            fields={
                "period_end": [
                    _("The period runs until %(day)s: approve it once the period is over.")
                    % {"day": pool.period_end.isoformat()}
                ]
            }
        )
    plan = compute_plan(pool)
    if plan.problem:
        raise ValidationFailed(fields={plan.problem_field: [plan.problem]})
    if plan.fingerprint != fingerprint:
        raise Conflict(_("The figures changed since your dry run: review it again."))
    FundAllocation.objects.bulk_create(
        FundAllocation(
            pool=pool,
            organization=line.organization,
            position=position,
            services=line.services,
            evaluations=line.evaluations,
            mean=line.mean,
            prior=line.prior,
            smoothed=line.smoothed,
            complaints=line.complaints,
            complaint_rate=line.complaint_rate,
            quality=line.quality,
            quality_source=line.quality_source,
            weight=line.weight,
            share=line.share,
            amount=line.amount,
            bound=line.bound,
        )
        for position, line in enumerate(plan.lines, start=1)
    )
    pool.state = PoolState.APPROVED
    pool.approved_by = actor
    pool.approved_at = timezone.now()
    pool.prior_weight = plan.prior_weight
    pool.complaint_penalty = plan.penalty
    pool.fingerprint = plan.fingerprint
    pool.total_weight = plan.total_weight
    pool.rate = plan.rate
    pool.allocated = plan.allocated
    pool.unallocated = plan.unallocated
    pool.save()
    _announce(pool)
    return pool


def _announce(pool: FundPool) -> None:
    """Tell each provider's staff their line, after commit."""
    link = reverse("incentives:pool", args=[pool.pk])
    amounts: dict[Any, Decimal] = dict(pool.lines.values_list("organization_id", "amount"))
    staff = RoleAssignment.objects.filter(
        role=Role.PROVIDER_STAFF, organization_id__in=list(amounts)
    ).select_related("user")

    def send() -> None:
        for assignment in staff:
            notify_text(
                user=assignment.user,
                title=gettext_noop("Incentive funds allocated: %(pool)s"),
                body=gettext_noop("Your organization's line: %(amount)s. Open it to see why."),
                values={"pool": pool.title, "amount": yuan(amounts[assignment.organization_id])},
                link=link,
                key=f"fundpool:{pool.pk}:{assignment.user_id}:{assignment.organization_id}",
            )

    transaction.on_commit(send)


# --- the computation --------------------------------------------------------------------


@dataclass
class Line:
    """One provider's figures; the same attribute names as `FundAllocation`, so pages,
    the API, the workbook and `explain` read a dry-run line and a stored one alike."""

    organization: Organization
    services: int
    evaluations: int
    mean: Decimal | None
    prior: Decimal | None
    smoothed: Decimal | None
    complaints: int
    complaint_rate: Decimal | None
    quality: Decimal
    quality_source: str
    weight: Decimal
    share: Decimal
    amount: Decimal = Decimal("0.00")
    bound: str = PoolBound.FREE


@dataclass
class Excluded:
    organization: Organization
    services: int


@dataclass
class Plan:
    pool: FundPool
    lines: list[Any]  # Line (dry run) or FundAllocation (approved)
    total_weight: Decimal
    rate: Decimal | None
    allocated: Decimal
    unallocated: Decimal
    prior_weight: float
    penalty: float
    fingerprint: str
    excluded: list[Excluded] = field(default_factory=list)
    approved: bool = False
    problem: str = ""  # why the dry run cannot be approved as it stands, if it cannot
    problem_field: str = ""  # the field to change: "floor", or "pool" (nothing to share)

    @property
    def explanations(self) -> list[tuple[Any, str]]:
        return [(line, explain(line, self)) for line in self.lines]


def _window(pool: FundPool) -> tuple[dt.date, dt.date]:
    """The half-open [start, end) the computations use: the last day is included."""
    return pool.period_start, pool.period_end + dt.timedelta(days=1)


def verified_services(pool: FundPool) -> dict[Any, dict[Any, int]]:
    """organization id → service id → verified completed services in the pool's period
    and region (one grouped query; see the module docstring for what counts)."""
    start, end = _window(pool)
    confirmed = RequestEvent.objects.filter(request=OuterRef("pk"), action=Action.CONFIRM)
    rows = (
        ServiceRequest.objects.filter(
            completed_at__gte=_aware(start),
            completed_at__lt=_aware(end),
            community__code__startswith=pool.region.prefix,
            responder__organization__isnull=False,
        )
        .filter(
            Q(state=State.CONFIRMED)
            | Q(Exists(confirmed), state=State.CLOSED, outcome=Outcome.RESOLVED)
        )
        .order_by()
        .values_list("responder__organization_id", "service_id")
        .annotate(n=Count("id"))
    )
    found: dict[Any, dict[Any, int]] = defaultdict(dict)
    for organization_id, service_id, n in rows:
        found[organization_id][service_id] = n
    return found


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _dec(value: float | None, places: str = "0.0001") -> Decimal | None:
    if value is None:
        return None
    return Decimal(repr(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _quality(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(FEN, rounding=ROUND_HALF_UP)


def compute_plan(pool: FundPool) -> Plan:
    """The dry run: verified services, indices, weights and amounts (no writes)."""
    start, end = _window(pool)
    counts = verified_services(pool)
    indices = compute_all_indices(
        period_start=start, period_end=end, region_code=pool.region.prefix
    )
    providers, services = indices["provider"], indices["service"]
    penalty, weight_m = complaint_penalty(), prior_weight()
    service_mean = {r["key"]: r["mean"] for r in services.rows if r["mean"] is not None}
    rated = sum(r["n"] for r in services.rows)
    grand = sum(r["n"] * (r["mean"] or 0) for r in services.rows) / rated if rated else None
    organizations = Organization.objects.in_bulk(list(counts))
    lines: list[Line] = []
    excluded: list[Excluded] = []
    for organization_id, by_service in counts.items():
        total = sum(by_service.values())
        organization = organizations[organization_id]
        if total < pool.min_services:
            excluded.append(Excluded(organization, total))
            continue
        row = providers.row(organization_id)
        complaints = int(row["complaints"] or 0) if row else 0
        if row and row["n"] > 0 and row["quality"] is not None:
            lines.append(
                Line(
                    organization=organization,
                    services=total,
                    evaluations=row["n"],
                    mean=_dec(row["mean"]),
                    prior=_dec(row["prior"]),
                    smoothed=_dec(row["smoothed"]),
                    complaints=complaints,
                    complaint_rate=_dec(row["complaint_rate"]),
                    quality=_quality(row["quality"]),
                    quality_source=QualitySource.INDICES,
                    weight=Decimal(0),
                    share=Decimal(0),
                )
            )
            continue
        # No evaluation in the period: the prior of the services it delivered.
        known = [(n, service_mean[s]) for s, n in by_service.items() if s in service_mean]
        prior = sum(n * m for n, m in known) / sum(n for n, _m in known) if known else grand
        rate = complaints / total
        if prior is None:
            quality, source = NEUTRAL_QUALITY, QualitySource.NEUTRAL
        else:
            quality = _quality(max(prior - penalty * rate, 1.0))
            source = QualitySource.PRIOR
        lines.append(
            Line(
                organization=organization,
                services=total,
                evaluations=0,
                mean=None,
                prior=_dec(prior),
                smoothed=None,
                complaints=complaints,
                complaint_rate=_dec(rate),
                quality=quality,
                quality_source=source,
                weight=Decimal(0),
                share=Decimal(0),
            )
        )
    for line in lines:
        line.weight = (line.quality * line.services).quantize(FEN)
    # Heaviest first; ties by name, then id, so the fen of rounding go the same way on
    # every run.
    lines.sort(key=lambda line: (-line.weight, line.organization.name, str(line.organization.pk)))
    excluded.sort(key=lambda e: (e.organization.name, str(e.organization.pk)))
    total_weight = sum((line.weight for line in lines), Decimal("0.00"))
    for line in lines:
        line.share = (
            (line.weight / total_weight).quantize(Decimal("0.00000001"))
            if total_weight
            else Decimal(0)
        )
    problem = problem_field = ""
    rate_yuan: Decimal | None = None
    allocated, unallocated = Decimal("0.00"), pool.amount
    try:
        shares = allocate([line.weight for line in lines], pool.amount, pool.floor, pool.cap)
    except FloorsExceedTotal:
        problem_field = "floor"
        problem = _(
            "%(n)s providers at the floor of %(floor)s need %(need)s, more than the pool's "
            "%(amount)s: lower the floor or raise the amount."
        ) % {
            "n": len(lines),
            "floor": yuan(pool.floor),
            "need": yuan(pool.floor * len(lines)),
            "amount": yuan(pool.amount),
        }
    else:
        for line, amount, bound in zip(lines, shares.amounts, shares.bounds, strict=True):
            line.amount, line.bound = amount, bound
        allocated, unallocated = shares.allocated, shares.unallocated
        if shares.rate is not None:
            rate_yuan = _rate_decimal(shares.rate)
    if not lines and not problem:
        problem_field = "pool"
        problem = _("No provider has verified services in the period: nothing to share.")
    plan = Plan(
        pool=pool,
        lines=lines,
        total_weight=total_weight,
        rate=rate_yuan,
        allocated=allocated,
        unallocated=unallocated,
        prior_weight=weight_m,
        penalty=penalty,
        fingerprint="",
        excluded=excluded,
        problem=problem,
        problem_field=problem_field,
    )
    plan.fingerprint = _fingerprint(plan)
    return plan


def _rate_decimal(rate: Fraction) -> Decimal:
    return (Decimal(rate.numerator) / Decimal(rate.denominator)).quantize(Decimal("0.00000001"))


def _fingerprint(plan: Plan) -> str:
    """A hash of everything the amounts depend on, and the amounts: equal fingerprints
    mean the official approves exactly what they reviewed."""
    pool = plan.pool
    inputs = {
        "pool": [
            pool.pk,
            pool.region_id,
            pool.period_start.isoformat(),
            pool.period_end.isoformat(),
            # Quantized: an instance fresh from `pool_create` and one read back must agree.
            f"{pool.amount:.2f}",
            f"{pool.floor:.2f}",
            None if pool.cap is None else f"{pool.cap:.2f}",
            pool.min_services,
        ],
        "parameters": [plan.prior_weight, plan.penalty],
        "lines": [
            [
                str(line.organization.pk),
                line.services,
                line.evaluations,
                str(line.smoothed),
                line.complaints,
                str(line.quality),
                str(line.weight),
                str(line.amount),
                line.bound,
            ]
            for line in plan.lines
        ],
        "excluded": [[str(e.organization.pk), e.services] for e in plan.excluded],
    }
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def stored_plan(pool: FundPool, lines: QuerySet[FundAllocation] | None = None) -> Plan:
    """An approved pool's allocation as written at approval (no recomputation)."""
    found = list((lines if lines is not None else pool.lines.all()).select_related("organization"))
    return Plan(
        pool=pool,
        lines=found,
        total_weight=pool.total_weight or Decimal(0),
        rate=pool.rate,
        allocated=pool.allocated or Decimal(0),
        unallocated=pool.unallocated or Decimal(0),
        prior_weight=pool.prior_weight or 0.0,
        penalty=pool.complaint_penalty or 0.0,
        fingerprint=pool.fingerprint,
        approved=True,
    )


def pool_allocation(*, actor: User | None, pool: FundPool) -> Plan:
    """What `actor` may see of a pool's allocation: the dry run of a draft (officials of
    the region), every line of an approved pool (officials), or only their own
    organization's lines (provider staff)."""
    if access.allocates_in(actor, pool.region_id):
        return compute_plan(pool) if not pool.is_approved else stored_plan(pool)
    if pool.is_approved and actor is not None:
        own = pool.lines.filter(organization__in=staff_organizations(actor))
        if own.exists():
            return stored_plan(pool, own)
    raise PermissionDenied(_("Only officials of the pool's region can see this allocation."))


# --- explanations -----------------------------------------------------------------------


def yuan(value: Decimal | float) -> str:
    return f"¥{Decimal(value):,.2f}"


def _fmt(value: Decimal | float | None, places: int = 2) -> str:
    return "—" if value is None else f"{Decimal(value):.{places}f}"


def explain(line: Any, plan: Plan) -> str:
    """One line in words: services, quality, weight, and how its amount was reached."""
    pool = plan.pool
    params = {
        "services": line.services,
        "quality": _fmt(line.quality),
        "weight": _fmt(line.weight),
        "share": f"{line.share * 100:.1f}%",
        "amount": yuan(line.amount),
        "rate": yuan(plan.rate) if plan.rate is not None else "—",
        "proportional": yuan(line.weight * plan.rate) if plan.rate is not None else "—",
        "floor": yuan(pool.floor),
        "cap": yuan(pool.cap) if pool.cap is not None else "—",
        "unallocated": yuan(plan.unallocated),
        "n": line.evaluations,
        "mean": _fmt(line.mean),
        "prior": _fmt(line.prior),
        "smoothed": _fmt(line.smoothed),
        "complaints": line.complaints,
        "rate_c": _fmt(line.complaint_rate, 3),
        "penalty": _fmt(plan.penalty),
    }
    head = (
        ngettext(
            "%(services)s verified service × quality %(quality)s = weight %(weight)s, "
            "%(share)s of all weight",
            "%(services)s verified services × quality %(quality)s = weight %(weight)s, "
            "%(share)s of all weight",
            line.services,
        )
        % params
    )
    if line.bound == PoolBound.FLOOR:
        money = (
            _(
                "at %(rate)s per weight point that would be %(proportional)s, "
                "raised to the floor: %(amount)s."
            )
            % params
        )
    elif line.bound == PoolBound.CAP and plan.rate is None:
        money = (
            _(
                "every provider is held at the cap of %(cap)s: %(amount)s "
                "(%(unallocated)s of the pool stays unallocated)."
            )
            % params
        )
    elif line.bound == PoolBound.CAP:
        money = (
            _(
                "at %(rate)s per weight point that would be %(proportional)s, "
                "held at the cap: %(amount)s; the rest went to the others."
            )
            % params
        )
    elif plan.rate is not None:
        money = _("× %(rate)s per weight point → %(amount)s.") % params
    else:
        money = _("→ %(amount)s.") % params
    if line.quality_source == QualitySource.INDICES:
        why = (
            _(
                "Quality: smoothed rating %(smoothed)s from %(n)s evaluated (mean "
                "%(mean)s pulled toward the prior %(prior)s), less %(penalty)s points × "
                "complaint rate %(rate_c)s (%(complaints)s complaints / %(n)s evaluated)."
            )
            % params
        )
    elif line.quality_source == QualitySource.PRIOR:
        why = (
            _(
                "No evaluation in the period: quality is the prior %(prior)s (the period's "
                "mean rating of the services it delivered), less %(penalty)s points × "
                "complaint rate %(rate_c)s (%(complaints)s complaints / %(services)s "
                "verified services)."
            )
            % params
        )
    else:
        why = _(
            "Nothing was evaluated in the region in the period: quality is 3, the middle of "
            "the scale, so money follows services alone."
        )
    return f"{head}; {money} {why}"


# --- selectors --------------------------------------------------------------------------


def pools_for(user: User | None) -> QuerySet[FundPool]:
    """Pools a user may open: every pool of the regions they allocate in (officials), and
    approved pools with a line for an organization they work for (provider staff)."""
    if user is None or not user.is_authenticated:
        return FundPool.objects.none()
    scope = user_scope(user, roles=access.FUND_ROLES)
    own = FundAllocation.objects.filter(
        pool=OuterRef("pk"), organization__in=staff_organizations(user)
    )
    condition = Q(Exists(own), state=PoolState.APPROVED)
    if not scope.is_empty:
        condition |= scope.q("region__code")
    return FundPool.objects.filter(condition).select_related("region", "created_by", "approved_by")


def allocating_regions(user: User | None, limit: int = 500) -> QuerySet[Region]:
    """Regions down to streets where `user` may create pools, for the form's choice."""
    if user is None or not user.is_authenticated:
        return Region.objects.none()
    scope = user_scope(user, roles=access.FUND_ROLES)
    if scope.is_empty:
        return Region.objects.none()
    return (
        Region.objects.filter(scope.q("code")).exclude(level="community").order_by("code")[:limit]
    )


# --- the workbook -----------------------------------------------------------------------

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pool_workbook(*, actor: User | None, pool: FundPool) -> bytes:
    """An approved pool's allocation as an Excel workbook: "Allocation" (one row per
    provider and a total) and "Parameters" (what the figures were computed with)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

    _may_allocate(actor, pool)
    if not pool.is_approved:
        raise Conflict(_("Only an approved pool can be exported: approve it first."))
    plan = stored_plan(pool)
    book = Workbook()
    sheet = cast(Worksheet, book.active)
    sheet.title = "Allocation"
    header = [
        _("Provider"),
        _("Verified services"),
        _("Evaluations"),
        _("Smoothed rating"),
        _("Complaints"),
        _("Complaint rate"),
        _("Quality"),
        _("Weight"),
        _("Share of weight"),
        _("Amount (yuan)"),
        _("Explanation"),
    ]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line, text in plan.explanations:
        sheet.append(
            [
                line.organization.name,
                line.services,
                line.evaluations,
                line.smoothed,
                line.complaints,
                line.complaint_rate,
                line.quality,
                line.weight,
                line.share,
                line.amount,
                text,
            ]
        )
    sheet.append(
        [
            _("Total"),
            sum(line.services for line in plan.lines),
            sum(line.evaluations for line in plan.lines),
            None,
            sum(line.complaints for line in plan.lines),
            None,
            None,
            plan.total_weight,
            Decimal(1) if plan.lines else Decimal(0),
            plan.allocated,
            _("Not allocated: %(left)s") % {"left": yuan(plan.unallocated)},
        ]
    )
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2, min_col=9, max_col=10):
        row[0].number_format = "0.00%"
        row[1].number_format = "#,##0.00"
    widths = {"A": 32, "K": 120}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    params = book.create_sheet("Parameters")
    for label, value in parameter_rows(plan):
        params.append([label, value])
    params.column_dimensions["A"].width = 30
    params.column_dimensions["B"].width = 100
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def parameter_rows(plan: Plan) -> list[tuple[str, Any]]:
    """The pool's parameters and formulas in words (the workbook's second sheet)."""
    pool = plan.pool
    approved_by = pool.approved_by
    return [
        (_("Pool"), pool.title),
        (_("Region"), f"{pool.region.display_name} ({pool.region_id})"),
        (_("First day"), pool.period_start.isoformat()),
        (_("Last day (included)"), pool.period_end.isoformat()),
        (_("Amount (yuan)"), pool.amount),
        (_("Floor per provider (yuan)"), pool.floor),
        (_("Cap per provider (yuan)"), pool.cap if pool.cap is not None else _("none")),
        (_("Least verified services"), pool.min_services),
        (_("Prior weight (ratings)"), plan.prior_weight),
        (_("Complaint penalty (points)"), plan.penalty),
        (_("Yuan per weight point"), plan.rate if plan.rate is not None else _("none")),
        (_("Allocated (yuan)"), plan.allocated),
        (_("Not allocated (yuan)"), plan.unallocated),
        (
            _("Verified service"),
            _(
                "A request delivered by one of the provider's responders, completed in the "
                "period in the region, and confirmed (confirmed, or confirmed then closed "
                "as resolved)."
            ),
        ),
        (
            _("Quality"),
            _(
                "Smoothed rating = (sum of ratings + prior weight × prior) / (evaluations + "
                "prior weight); quality = smoothed rating − penalty × complaints per "
                "evaluation, at least 1, rounded to 0.01. Without evaluations: the prior "
                "less the penalty per complaint per verified service."
            ),
        ),
        (_("Weight"), _("Verified services × quality.")),
        (
            _("Amount"),
            _(
                "Weight × yuan per weight point, where one rate for all is chosen so that "
                "the amounts sum to the pool; an amount below the floor is raised to it and "
                "one above the cap held at it, the difference shared among the others; "
                "rounded to the fen, the leftover fen to the largest remainders."
            ),
        ),
        (_("Approved by"), approved_by.get_username() if approved_by else ""),
        (
            _("Approved at"),
            timezone.localtime(pool.approved_at).strftime("%Y-%m-%d %H:%M")
            if pool.approved_at
            else "",
        ),
        (_("Fingerprint"), pool.fingerprint),
    ]
