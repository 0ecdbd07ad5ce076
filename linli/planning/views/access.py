"""The accessibility page: /planning/access/?region=&kind=&date=[&run=].

A choropleth of the region's communities by the share of people within the 15-minute
walk of the kind, the facilities as points, a table per community (population, shares at
each distance, priority groups apart, E2SFCA), the run's parameters and its inputs'
dates, and a warning when distances are straight lines × the detour factor. Officials
over the region start a run with the button (POST /planning/access/run/).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import LinliError
from linli.directory.choices import FacilityKind
from linli.directory.views import map_settings
from linli.regions.models import Region
from linli.regions.selectors import region_ancestors
from linli.residents.choices import PriorityGroup

from .. import accessibility, networks, selectors
from ..models import AccessibilityRun, DistanceMethod

DEFAULT_KIND = FacilityKind.HEALTH_STATION.value
# Legend bins of the share within the walk, in percent (the colours live in access_map.js).
LEGEND = (0, 20, 40, 60, 80, 100)


def _kind_choices() -> list[tuple[str, str]]:
    labels = dict(FacilityKind.choices)
    return [(k, str(labels[k])) for k in accessibility.kinds()]


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _rows(run: AccessibilityRun) -> list[dict[str, Any]]:
    """Per community, what the table shows: shares and groups beyond 1 km and the walk."""
    results = run.results or {}
    thresholds = results.get("thresholds", [])
    k1000 = thresholds.index(1000.0) if 1000.0 in thresholds else len(thresholds) - 1
    rows = []
    for c in results.get("communities", []):
        pop = c["population"]
        groups = []
        for g in results.get("groups", []):
            count, *covered = c["groups"][g]
            groups.append(
                {
                    "code": g,
                    "count": count,
                    "beyond_1000": max(count - covered[k1000], 0.0),
                    "beyond_walk": max(count - covered[-1], 0.0),
                }
            )
        rows.append(
            {
                "code": c["code"],
                "name": c["name"],
                "population": pop,
                "shares": [_share(x, pop) for x in c["covered"]],
                "groups": groups,
                "e2sfca_mean": c["e2sfca_mean"],
                "e2sfca_min": c["e2sfca_min"],
            }
        )
    return rows


def _map(run: AccessibilityRun | None, region: Region) -> dict[str, Any]:
    """What access_map.js draws: communities coloured by the walk share, facilities."""
    results = (run.results if run else None) or {}
    by_code = {c["code"]: c for c in results.get("communities", [])}
    features = []
    for community in networks.communities_of(region):
        if not community.boundary:
            continue
        c = by_code.get(community.code)
        share = _share(c["covered"][-1], c["population"]) if c else None
        features.append(
            {
                "type": "Feature",
                "geometry": community.boundary,
                "properties": {
                    "code": community.code,
                    "name": community.display_name,
                    "share": None if share is None else round(share * 100, 1),
                    "population": c["population"] if c else None,
                },
            }
        )
    return {
        "tiles": map_settings(),
        "communities": features,
        "facilities": [
            {"lat": f["lat"], "lon": f["lon"], "name": f["name"], "ratio": f["ratio"]}
            for f in results.get("facilities", [])
        ],
        "legend": list(LEGEND),
        "labels": {
            "legend": _("Share within the 15-minute walk (%)"),
            "no_data": _("No data"),
            "population": _("Population"),
            "ratio": _("Supply per 1,000 people in reach"),
        },
    }


def _context(request: HttpRequest, values: dict[str, str]) -> dict[str, Any]:
    region = selectors.dashboard_region(request.user, values["region"] or None)
    kind = values["kind"] or DEFAULT_KIND
    accessibility.check_kind(kind)
    day = selectors.parse_day(values["date"] or None)
    run: AccessibilityRun | None
    if values.get("run"):
        shown = accessibility.run_get(request.user, values["run"])
        run, region, kind, day = shown, shown.region, shown.kind, shown.as_of
    else:
        run = accessibility.latest_run(region, kind, day)
    _net, info = networks.network_for(region.code)
    results = (run.results if run else None) or {}
    return {
        "region": region,
        "kind": kind,
        "kind_label": dict(FacilityKind.choices).get(kind, kind),
        "day": day,
        "run": run,
        "results": results,
        "rows": _rows(run) if run else [],
        "totals": [
            (t, _share(c, results["totals"]["population"]))
            for t, c in zip(results["thresholds"], results["totals"]["covered"], strict=True)
        ]
        if results
        else [],
        "streets": results.get("streets", []),
        "facilities": sorted(
            results.get("facilities", []),
            key=lambda f: (f["ratio"] is None, f["ratio"] if f["ratio"] is not None else 0),
        )[:50],
        "group_labels": [(g, PriorityGroup(g).label) for g in results.get("groups", [])],
        "straight_line": bool(run and run.distance_method == DistanceMethod.STRAIGHT_LINE),
        "network_info": info,
        "map": _map(run, region),
        "may_run": accessibility.may_run(request.user, region),
        "recent": list(
            accessibility.runs_visible_to(request.user)
            .filter(region=region)
            .order_by("-started_at", "-id")[:10]
        ),
        "breadcrumb": region_ancestors(region),
    }


def _render(
    request: HttpRequest, values: dict[str, str], status: int = 200, error: LinliError | None = None
) -> HttpResponse:
    """The page for ``values``; a refusal (``error``, or one met while reading) is shown
    above whatever could still be shown, with its status."""
    context: dict[str, Any] = {"values": values, "kinds": _kind_choices(), "run": None}
    try:
        context.update(_context(request, values))
    except LinliError as exc:
        if error is None:
            error, status = exc, exc.status
    if error is not None:
        context.update({"error": error.message, "errors": error.fields})
    return render(request, "planning/access.html", context, status=status)


@login_required
@require_GET
def access_page(request: HttpRequest) -> HttpResponse:
    values = {k: request.GET.get(k, "") for k in ("region", "kind", "date", "run")}
    return _render(request, values)


@login_required
@require_POST
def access_run(request: HttpRequest) -> HttpResponse:
    values = {k: request.POST.get(k, "") for k in ("region", "kind", "date")}
    try:
        # Reading the page needs the planning scope; starting a run needs an official's.
        region = selectors.dashboard_region(request.user, values["region"] or None)
        run = accessibility.accessibility_run(
            actor=request.user,
            region_code=region.code,
            kind=values["kind"] or DEFAULT_KIND,
            day=values["date"] or None,
        )
    except LinliError as error:
        return _render(request, {**values, "run": ""}, status=error.status, error=error)
    query = urlencode({"region": run.region_id, "kind": run.kind, "date": run.as_of.isoformat()})
    return redirect(f"{reverse('planning:access')}?{query}&run={run.pk}")


urlpatterns = [
    path("access/", access_page, name="access"),
    path("access/run/", access_run, name="access-run"),
]
