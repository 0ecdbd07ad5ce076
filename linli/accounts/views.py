from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
