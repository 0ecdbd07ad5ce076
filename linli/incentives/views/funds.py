"""Pages of incentive fund pools: the list with the creation form, the pool allocation
screen (dry run and approval, or the approved table), and the Excel download.

Rules live in funds.py: views parse, call, and render.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.accounts.models import User
from linli.core.errors import LinliError
from linli.regions.models import Region

from .. import access
from ..funds import (
    CONTENT_TYPE,
    allocating_regions,
    parameter_rows,
    pool_allocation,
    pool_approve,
    pool_create,
    pool_workbook,
    pools_for,
)
from ..models import FundPool

FIELDS = ("region", "title", "period_start", "period_end", "amount", "floor", "cap", "min_services")


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _errors(error: LinliError) -> dict[str, list[str]]:
    return error.fields or {"form": [error.message]}


def _pool(request: HttpRequest, pk: int) -> FundPool:
    found = pools_for(_user(request)).filter(pk=pk).first()
    if found is None:
        raise Http404(_("No such fund pool."))
    return found


@login_required
@require_http_methods(["GET", "POST"])
def pool_list(request: HttpRequest) -> HttpResponse:
    """The pools the user may open; officials create one here."""
    user = _user(request)
    regions = list(allocating_regions(user))
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in FIELDS}
        region = Region.objects.filter(code=values["region"]).first()
        try:
            if region is None:
                raise LinliError(fields={"region": [_("Choose a region.")]})
            minimum = values["min_services"] or "1"
            if not minimum.isdigit():
                raise LinliError(fields={"min_services": [_("Give a whole number of at least 1.")]})
            pool = pool_create(
                actor=user,
                region=region,
                title=values["title"],
                period_start=values["period_start"],
                period_end=values["period_end"],
                amount=values["amount"],
                floor=values["floor"] or "0",
                cap=values["cap"] or None,
                min_services=int(minimum),
            )
        except LinliError as error:
            errors = _errors(error)
        else:
            messages.success(request, _("The pool was created: review its dry run."))
            return HttpResponseRedirect(reverse("incentives:pool", args=[pool.pk]))
    context: dict[str, Any] = {
        "pools": pools_for(user),
        "regions": regions,
        "may_create": bool(regions),
        "errors": errors,
        "values": values,
    }
    return render(request, "incentives/pool_list.html", context, status=400 if errors else 200)


@login_required
@require_GET
def pool_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The pool allocation screen: a draft's dry run with the approve button, or the
    approved, immutable table with its download."""
    pool = _pool(request, pk)
    user = _user(request)
    official = access.allocates_in(user, pool.region_id)
    try:
        plan = pool_allocation(actor=user, pool=pool)
    except LinliError as error:
        raise Http404(error.message) from None
    context = {
        "pool": pool,
        "plan": plan,
        "official": official,
        "parameters": parameter_rows(plan) if plan.approved else [],
    }
    return render(request, "incentives/pool_detail.html", context)


@login_required
@require_POST
def pool_approve_page(request: HttpRequest, pk: int) -> HttpResponse:
    pool = _pool(request, pk)
    try:
        pool_approve(
            actor=_user(request), pool=pool, fingerprint=request.POST.get("fingerprint", "")
        )
    except LinliError as error:
        for reasons in _errors(error).values():
            for reason in reasons:
                messages.error(request, reason)
    else:
        messages.success(request, _("The allocation is approved; it can no longer change."))
    return HttpResponseRedirect(reverse("incentives:pool", args=[pool.pk]))


@never_cache
@login_required
@require_GET
def pool_export(request: HttpRequest, pk: int) -> HttpResponse:
    pool = _pool(request, pk)
    try:
        data = pool_workbook(actor=_user(request), pool=pool)
    except LinliError as error:
        raise Http404(error.message) from None
    response = HttpResponse(data, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="linli-pool-{pool.pk}.xlsx"'
    return response


urlpatterns = [
    path("pools/", pool_list, name="pools"),
    path("pools/<int:pk>/", pool_detail, name="pool"),
    path("pools/<int:pk>/approve/", pool_approve_page, name="pool_approve"),
    path("pools/<int:pk>/export.xlsx", pool_export, name="pool_export"),
]
