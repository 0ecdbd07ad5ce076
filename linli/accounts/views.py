from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from linli.regions.selectors import region_tops, subtree_counts

from .roles import role_guide
from .selectors import user_roles, user_scope


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The page each person lands on: their roles, what each lets them do, and their area."""
    assignments = user_roles(request.user)
    scope = user_scope(request.user)
    tops = list(region_tops(scope=scope))
    counts = subtree_counts(scope=scope, regions=tops)
    return render(
        request,
        "accounts/home.html",
        {
            "assignments": [(a, role_guide(a.role)) for a in assignments],
            "areas": [(region, counts[region.code]) for region in tops],
            "everything": scope.everything,
        },
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """What a locked-out login sees: the API's error format, or a page saying when to retry."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed logins for this account from this address. "
        "Try again in %(minutes)s minutes, or ask your administrator to unlock it."
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "locked_out", "detail": message, "fields": {}}, status=429)
    return render(request, "accounts/locked.html", {"message": message}, status=429)
