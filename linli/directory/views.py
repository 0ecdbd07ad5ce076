"""Resident-facing pages: find services near me, and a facility's own page."""

from __future__ import annotations

from datetime import time
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.regions.choices import RegionLevel
from linli.regions.models import Region

from .api.views import SearchInput, resident_community
from .choices import AccessibilityFeature, FeeKind, Weekday
from .models import Location, Schedule, ServiceAtLocation, TaxonomyTerm
from .selectors import (
    distance_km,
    facility_detail,
    facility_services,
    open_schedules,
    service_search,
    service_terms,
)
from .taxonomy import PRIORITY_TAXONOMY, SERVICES_TAXONOMY, taxonomy_uuid

RESULTS_PER_PAGE = 20


def _terms_of(taxonomy: str) -> list[TaxonomyTerm]:
    return list(
        TaxonomyTerm.objects.filter(taxonomy_ref_id=taxonomy_uuid(taxonomy)).order_by("code")
    )


def _category_choices() -> list[tuple[TaxonomyTerm, list[TaxonomyTerm]]]:
    """Top-level fields of the plan, each with its services, for a grouped select."""
    terms = _terms_of(SERVICES_TAXONOMY)
    tops = [t for t in terms if t.parent_id is None]
    return [(top, [t for t in terms if t.parent_id == top.id]) for top in tops]


def map_settings() -> dict[str, str] | None:
    if not settings.LINLI_MAP_TILE_URL:
        return None
    return {"url": settings.LINLI_MAP_TILE_URL, "attribution": settings.LINLI_MAP_TILE_ATTRIBUTION}


def map_data(
    *, places: list[Location], regions: list[Region], origin: tuple[float, float] | None = None
) -> dict[str, Any]:
    """What map.js draws: community outlines, facilities as points, where the search starts."""
    return {
        "tiles": map_settings(),
        "regions": [
            {
                "type": "Feature",
                "geometry": region.boundary,
                "properties": {"name": region.display_name},
            }
            for region in regions
            if region.boundary
        ],
        "points": [
            {
                "lat": place.latitude,
                "lon": place.longitude,
                "name": place.name,
                "kind": place.get_kind_display() if place.kind else "",
                "url": reverse("directory:facility", args=[place.id]),
            }
            for place in places
            if place.latitude is not None and place.longitude is not None
        ],
        "origin": {"lat": origin[0], "lon": origin[1], "label": _("Starting point")}
        if origin
        else None,
        "no_tiles_note": _("Map drawn from Linli's own data: community outlines and facilities."),
    }


def service_search_page(request: HttpRequest) -> HttpResponse:
    params = SearchInput(data=request.GET)
    valid = params.is_valid()
    query = params.to_query(request.user) if valid else None
    page = None
    rows: list[ServiceAtLocation] = []
    if query is not None:
        page = Paginator(service_search(query=query), RESULTS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        rows = list(page.object_list)
    terms = service_terms(row.service_id for row in rows)
    places = list({row.location_id: row.location for row in rows}.values())
    near = params.validated_data.get("near") if valid else None
    home = near or resident_community(request.user)
    regions = list({p.region_id: p.region for p in places if p.region}.values())
    if home and home not in regions:
        regions.append(home)
    return render(
        request,
        "directory/search.html",
        {
            "form_errors": params.errors if not valid else {},
            "values": request.GET,
            "page": page,
            "results": [
                {"row": row, "terms": terms.get(row.service_id, []), "km": distance_km(row)}
                for row in rows
            ],
            "categories": _category_choices(),
            "groups": _terms_of(PRIORITY_TAXONOMY),
            "communities": Region.objects.filter(level=RegionLevel.COMMUNITY).order_by("code"),
            "home": home,
            "map": map_data(places=places, regions=regions, origin=query.origin if query else None),
            "query_string": _without_page(request),
        },
    )


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def days_label(byday: str) -> str:
    """HSDS days as people say them: "Every day", "Monday–Friday", "Tuesday, Saturday"."""
    order = list(Weekday.values)
    labels = dict(Weekday.choices)
    codes = {code.strip() for code in byday.split(",")}
    days = sorted((code for code in codes if code in labels), key=order.index)
    if len(days) == len(order):
        return str(_("Every day"))
    runs: list[list[str]] = []
    for day in days:
        if runs and order.index(day) == order.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    separator = _(", ")
    parts = [
        _("%(first)s–%(last)s") % {"first": labels[run[0]], "last": labels[run[-1]]}
        if len(run) >= 3
        else separator.join(str(labels[day]) for day in run)
        for run in runs
    ]
    return separator.join(parts)


def _weekly_hours(schedules: list[Schedule]) -> list[dict[str, Any]]:
    """Opening hours as people read them: one line per schedule, earliest first."""
    return [
        {
            "days": days_label(schedule.byday),
            "opens_at": schedule.opens_at,
            "closes_at": schedule.closes_at,
            "description": schedule.description,
        }
        for schedule in sorted(schedules, key=lambda s: (s.opens_at or time.min, s.byday))
    ]


def facility_page(request: HttpRequest, facility_id: UUID) -> HttpResponse:
    place = facility_detail(facility_id=facility_id)
    if place is None:
        raise Http404(_("No such facility."))
    services = facility_services(facility=place)
    terms = service_terms(row.service_id for row in services)
    open_ids = set(open_schedules().filter(location=place).values_list("id", flat=True))
    features = dict(AccessibilityFeature.choices)
    return render(
        request,
        "directory/facility.html",
        {
            "place": place,
            "hours": _weekly_hours(list(place.schedules.all())),
            "is_open": bool(open_ids),
            "accessibility": [
                features.get(row.details, row.description or row.details)
                for row in place.accessibility.all()
            ],
            "services": [{"row": row, "terms": terms.get(row.service_id, [])} for row in services],
            "free": FeeKind.FREE,
            "map": map_data(places=[place], regions=[place.region] if place.region else []),
        },
    )
