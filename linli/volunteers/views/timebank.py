"""Pages: my time bank (balance, hours earned, every movement and what it was for),
redeeming hours for a relative, and a community's pool for its workers.

Balances are read, never computed here: the database keeps them from the movements.
Redeeming and granting go through `redemptions`, whose refusals come back at the field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from linli.accounts.models import User
from linli.core.errors import Conflict, PermissionDenied, ValidationFailed
from linli.regions.choices import RegionLevel
from linli.regions.models import Region
from linli.residents.forms import add_service_errors
from linli.residents.models import Resident

from ..access import keeps_community, volunteer_of
from ..choices import AccountKind, TransferKind
from ..forms import GrantForm, RedeemForm
from ..ledger import cap_hours, earned_hours
from ..models import Account, Movement
from ..redemptions import (
    beneficiaries_of,
    movements_of,
    pool_grant,
    redemption_create,
    redemptions_of,
)

MOVEMENTS_PER_PAGE = 20


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def movement_row(movement: Movement) -> dict[str, Any]:
    """One line of a statement: when, how many hours in or out, and what for."""
    transfer = movement.transfer
    request = transfer.request
    activity = transfer.activity
    if activity is not None:
        what = activity.title
    elif request is not None:
        what = f"{request.service.display_name} ({request.public_id})"
    else:
        what = transfer.memo
    return {
        "at": transfer.created_at,
        "amount": movement.amount,
        "kind": transfer.get_kind_display(),
        "what": what,
        "memo": transfer.memo if (activity or request) is not None else "",
        "request": request,
        "correction": transfer.kind == TransferKind.REVERSAL,
    }


def _link(name: str, default: str = "") -> str:
    """A page another part of the app may provide; nothing when it does not (yet)."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return default


@never_cache
@login_required
def timebank(request: HttpRequest) -> HttpResponse:
    """My balance, what I earned by service, and every movement of my account."""
    user = _user(request)
    account = Account.objects.filter(kind=AccountKind.PERSON, user=user).first()
    found = movements_of(account) if account else Movement.objects.none()
    page = Paginator(found, MOVEMENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "volunteers/timebank_mine.html",
        {
            "volunteer": volunteer_of(user),
            "balance": account.balance if account else Decimal("0.00"),
            "earned": earned_hours(user),
            "cap": cap_hours(),
            "page": page,
            "rows": [movement_row(m) for m in page.object_list],
            "redemptions": list(redemptions_of(user)[:10]),
            "may_redeem": bool(beneficiaries_of(user)),
            "tasks_url": _link("requests:tasks", "/tasks/"),
            "activities_url": _link("volunteers:activity_mine", "/activities/mine/"),
            "stars_url": _link("volunteers:stars"),
            "certificates_url": _link("volunteers:certificates"),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest) -> HttpResponse:
    """Spend hours on a service for myself, my spouse or a relative aged 60 or over."""
    user = _user(request)
    people = beneficiaries_of(user)
    account = Account.objects.filter(kind=AccountKind.PERSON, user=user).first()
    balance = account.balance if account else Decimal("0.00")
    form = RedeemForm(request.POST or None, people=people)
    status = 200
    if request.method == "POST":
        if not people:
            raise DjangoPermissionDenied(_("Your account has no record in the register."))
        if form.is_valid():
            try:
                redemption = redemption_create(
                    actor=user,
                    beneficiary=form.beneficiary_record(),
                    service=form.cleaned_data["service"],
                    hours=form.cleaned_data["hours"],
                    description=form.cleaned_data["description"],
                )
            except ValidationFailed as error:
                add_service_errors(form, error)
                status = 400
            except (PermissionDenied, Conflict) as error:
                form.add_error(None, error.message)
                status = error.status
            else:
                messages.success(
                    request,
                    _(
                        "%(hours)s hours are held for this service; they are paid when you "
                        "confirm it was done."
                    )
                    % {"hours": redemption.hours},
                )
                return HttpResponseRedirect(
                    reverse("requests:detail", args=[redemption.request.public_id])
                )
        else:
            status = 400
    return render(
        request,
        "volunteers/redeem_form.html",
        {"form": form, "balance": balance, "people": people},
        status=status,
    )


def _pool_community(user: User, code: str) -> Region:
    community = Region.objects.filter(code=code, level=RegionLevel.COMMUNITY).first()
    if community is None:
        raise Http404(_("No such community."))
    if not keeps_community(user, community.code):
        raise DjangoPermissionDenied(_("Only the community's workers see its pool."))
    return community


def _render_pool(
    request: HttpRequest, community: Region, form: GrantForm, status: int = 200
) -> HttpResponse:
    account = Account.objects.filter(kind=AccountKind.COMMUNITY_POOL, community=community).first()
    found = movements_of(account) if account else Movement.objects.none()
    page = Paginator(found, MOVEMENTS_PER_PAGE).get_page(request.GET.get("page"))
    received = found.filter(amount__gt=0).aggregate(total=Sum("amount"))["total"] or 0
    return render(
        request,
        "volunteers/pool_detail.html",
        {
            "community": community,
            "balance": account.balance if account else Decimal("0.00"),
            "received": received,
            "page": page,
            "rows": [movement_row(m) for m in page.object_list],
            "form": form,
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def pool(request: HttpRequest, code: str) -> HttpResponse:
    """A community's pool (hours above volunteers' caps, donations): its balance and
    movements; a worker grants hours from it to a resident in difficulty."""
    user = _user(request)
    community = _pool_community(user, code)
    if request.method == "GET":
        return _render_pool(request, community, GrantForm())
    form = GrantForm(request.POST)
    if not form.is_valid():
        return _render_pool(request, community, form, 400)
    beneficiary = Resident.objects.filter(
        pk=form.cleaned_data["resident"], community=community, anonymized_at__isnull=True
    ).first()
    if beneficiary is None:
        form.add_error("resident", _("No resident with this number lives in this community."))
        return _render_pool(request, community, form, 400)
    try:
        pool_grant(
            actor=user,
            community=community,
            beneficiary=beneficiary,
            amount=form.cleaned_data["hours"],
            memo=form.cleaned_data["memo"],
        )
    except ValidationFailed as error:
        add_service_errors(form, error, rename={"beneficiary": "resident", "target": "resident"})
        return _render_pool(request, community, form, 400)
    except PermissionDenied as error:
        form.add_error(None, error.message)
        return _render_pool(request, community, form, 403)
    messages.success(
        request,
        _("%(hours)s hours were given to %(name)s.")
        % {"hours": form.cleaned_data["hours"], "name": beneficiary.name},
    )
    return HttpResponseRedirect(reverse("volunteers:pool", args=[community.code]))


urlpatterns: list[URLPattern] = [
    path("timebank/", timebank, name="timebank"),
    path("timebank/redeem/", redeem, name="redeem"),
    path("timebank/pool/<str:code>/", pool, name="pool"),
]
