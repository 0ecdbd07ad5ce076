from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linli.accounts.selectors import user_scope

from .selectors import region_ancestors, region_children, region_get, region_tops, subtree_counts


@login_required
def region_browser(request: HttpRequest) -> HttpResponse:
    """Where browsing starts: the highest regions the user may see."""
    scope = user_scope(request.user)
    tops = list(region_tops(scope=scope))
    if len(tops) == 1:
        return redirect("regions:detail", code=tops[0].code)
    counts = subtree_counts(scope=scope, regions=tops)
    return render(
        request,
        "regions/browser.html",
        {"rows": [(region, counts[region.code]) for region in tops]},
    )


@login_required
def region_detail(request: HttpRequest, code: str) -> HttpResponse:
    scope = user_scope(request.user)
    region = region_get(scope=scope, code=code)
    if region is None:
        raise Http404(_("No region with code %(code)s is visible to you.") % {"code": code})
    children = list(region_children(scope=scope, region=region))
    counts = subtree_counts(scope=scope, regions=[region, *children])
    breadcrumbs = [a for a in region_ancestors(region) if scope.covers(a.code)]
    return render(
        request,
        "regions/detail.html",
        {
            "region": region,
            "totals": counts[region.code],
            "rows": [(child, counts[child.code]) for child in children],
            "breadcrumbs": breadcrumbs,
        },
    )
