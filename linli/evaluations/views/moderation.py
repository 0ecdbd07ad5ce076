"""The moderation page: recent comments on ratings of requests and facilities in the
moderator's communities, hidden with a reason; and the manipulation flags of the last
90 days, each linking to the ratings it flags.

Moderators are community workers (and administrators): services.is_moderator. Hiding
goes through the services, which check the moderator again for each comment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.accounts.models import User
from linli.accounts.roles import RESIDENT_KEEPER_ROLES
from linli.accounts.selectors import user_scope
from linli.core.errors import LinliError
from linli.directory.models import Organization
from linli.requests.models import Responder

from .. import facilities, services
from ..indices import FLAG_REASONS, flags_for
from ..models import Evaluation, FacilityRating

# How far back comments and flags are shown.
MODERATION_DAYS = 90
SHOWN = 100


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _scope_or_404(user: User) -> Any:
    scope = user_scope(user, roles=RESIDENT_KEEPER_ROLES)
    if scope.is_empty:
        raise Http404
    return scope


def _flags(scope: Any, since: dt.date, until: dt.date) -> list[dict[str, Any]]:
    """Flags within each of the moderator's region prefixes, with what they point at."""
    prefixes: list[str | None] = [None] if scope.everything else list(scope.prefixes)
    found = []
    for prefix in prefixes:
        found += flags_for(period_start=since, period_end=until, region_code=prefix)
    ids = {pk for flag in found for pk in flag["evaluation_ids"]}
    numbers = dict(Evaluation.objects.filter(pk__in=ids).values_list("pk", "request__public_id"))
    users = {
        u.pk: u.username
        for u in User.objects.filter(pk__in={f["rater_id"] for f in found if f["rater_id"]})
    }
    responders = {
        r.pk: r.name
        for r in Responder.objects.filter(
            pk__in={f["responder_id"] for f in found if f["responder_id"]}
        )
    }
    organizations = {
        o.pk: o.name
        for o in Organization.objects.filter(
            pk__in={f["organization_id"] for f in found if f["organization_id"]}
        )
    }
    rows = []
    for flag in found:
        rows.append(
            {
                **flag,
                "label": FLAG_REASONS.get(flag["reason"], flag["reason"]),
                "rater": users.get(flag["rater_id"] or 0, ""),
                "responder": responders.get(flag["responder_id"] or 0, ""),
                # FlagRow types the organization as int; it is the organization's UUID.
                "organization": organizations.get(cast(Any, flag["organization_id"]), ""),
                "links": [(pk, numbers[pk]) for pk in flag["evaluation_ids"][:20] if pk in numbers],
                "more": max(0, len(flag["evaluation_ids"]) - 20),
            }
        )
    return rows


@login_required
@require_GET
def moderate(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    scope = _scope_or_404(user)
    today = timezone.localdate()
    since = today - dt.timedelta(days=MODERATION_DAYS)
    start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    evaluations = list(
        Evaluation.objects.filter(scope.q("community__code"), created_at__gte=start)
        .exclude(comment="")
        .select_related("request", "responder", "community", "hidden_by", "service")
        .order_by("-created_at", "-id")[:SHOWN]
    )
    ratings = list(
        facilities.facility_ratings_in_scope(user)
        .filter(created_at__gte=start)
        .exclude(comment="")
        .order_by("-created_at", "-id")[:SHOWN]
    )
    return render(
        request,
        "evaluations/moderate.html",
        {
            "evaluations": evaluations,
            "facility_ratings": ratings,
            "flags": _flags(scope, since, today + dt.timedelta(days=1)),
            "since": since,
            "days": MODERATION_DAYS,
        },
    )


@login_required
@require_POST
def hide(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Hide one comment, saying why; the service checks the moderator's community."""
    user = _user(request)
    _scope_or_404(user)
    reason = request.POST.get("reason", "")
    try:
        if kind == "evaluation":
            evaluation = Evaluation.objects.filter(pk=pk).first()
            if evaluation is None:
                raise Http404
            services.evaluation_hide_comment(actor=user, evaluation=evaluation, reason=reason)
        elif kind == "facility":
            rating = FacilityRating.objects.filter(pk=pk).first()
            if rating is None:
                raise Http404
            facilities.facility_rating_hide_comment(actor=user, rating=rating, reason=reason)
        else:
            raise Http404
        messages.success(request, _("The comment was hidden."))
    except LinliError as error:
        for reasons in (error.fields or {"__all__": [error.message]}).values():
            for text in reasons:
                messages.error(request, text)
    return HttpResponseRedirect(reverse("evaluations:moderate") + f"#{kind}-{pk}")


urlpatterns = [
    path("evaluations/moderate/", moderate, name="moderate"),
    path("evaluations/moderate/<str:kind>/<int:pk>/hide/", hide, name="moderate_hide"),
]
