"""Pages: the community scorecards of the user's area, one community's scorecard with its
trend, and a provider's scores with the formula worked out.

Who sees them (the figures are aggregates, and rating figures over too few people are
held back, see scorecards.py): scorecards, anyone whose scope covers the community
(community workers, street and district officials, …) and the residents of it (and
their proxies), since a community's own people are who the scorecard answers to. A
provider's scores, any signed-in user: its staff and officials to act on them,
residents to choose a provider.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.selectors import user_scope
from linli.core.errors import LinliError
from linli.directory.models import Organization
from linli.residents.choices import PriorityGroup

from .. import indices
from ..scorecards import (
    PART_LABELS,
    PARTS,
    Period,
    Scorecard,
    compute_scorecards,
    load_prefix,
    may_see_community,
    parse_period,
    privacy_min,
    provider_scores,
    visible_scorecards,
)


def _group_label(code: str) -> str:
    try:
        return str(PriorityGroup(code).label)
    except ValueError:
        return code


def _period_or_error(request: HttpRequest) -> tuple[Period | None, dict[str, list[str]]]:
    try:
        return parse_period(request.GET.get("period")), {}
    except LinliError as error:
        return None, error.fields or {"period": [error.message]}


def _row(card: Scorecard) -> tuple[Scorecard, list[Any]]:
    return card, [card.parts[p] for p in PARTS]


def _parts_table(card: Scorecard) -> list[dict[str, Any]]:
    return [{"label": PART_LABELS[p], **card.parts[p]} for p in PARTS]


@login_required
def scorecards_index(request: HttpRequest) -> HttpResponse:
    """Every community the user may see, by street, with district tables when the user
    sees the whole district."""
    period, errors = _period_or_error(request)
    if period is None:
        return render(request, "evaluations/scorecards.html", {"errors": errors}, status=400)
    cards, computed = visible_scorecards(user=request.user, period=period)
    scope = user_scope(request.user)
    streets: dict[str, list[Scorecard]] = defaultdict(list)
    districts: dict[str, list[Scorecard]] = defaultdict(list)
    for card in cards:
        streets[card.street_code].append(card)
        if scope.covers(card.district_code):
            districts[card.district_code].append(card)
    rank = lambda c: (c.rank_street or 10**6, c.code)  # noqa: E731
    district_rank = lambda c: (c.rank_district or 10**6, c.code)  # noqa: E731
    return render(
        request,
        "evaluations/scorecards.html",
        {
            "period": period,
            "errors": errors,
            "parts": [(p, PART_LABELS[p]) for p in PARTS],
            "weights": [(PART_LABELS[p], computed.weights[p]) for p in PARTS] if computed else [],
            "streets": [
                (members[0].street_name, [_row(c) for c in sorted(members, key=rank)])
                for _code, members in sorted(streets.items())
            ],
            "districts": [
                (members[0].district_name, sorted(members, key=district_rank))
                for _code, members in sorted(districts.items())
            ],
        },
    )


@login_required
def scorecard_detail(request: HttpRequest, code: str) -> HttpResponse:
    if not may_see_community(request.user, code):
        raise Http404
    period, errors = _period_or_error(request)
    if period is None:
        return render(request, "evaluations/scorecard_detail.html", {"errors": errors}, status=400)
    computed = compute_scorecards(region_code=load_prefix(code), period=period)
    card = computed.card(code)
    if card is None:
        raise Http404
    chart = {
        "months": [m.strftime("%Y-%m") for m in computed.months],
        "series": [
            {
                "name": str(_("Composite")),
                "values": [_percent(p["composite"]) for p in card.trend],
            }
        ]
        + [
            {
                "name": str(PART_LABELS[part]),
                "values": [_percent(p["parts"][part]) for p in card.trend],
            }
            for part in PARTS
        ],
    }
    return render(
        request,
        "evaluations/scorecard_detail.html",
        {
            "card": card,
            "period": period,
            "errors": errors,
            "parts": _parts_table(card),
            "part_names": [PART_LABELS[p] for p in PARTS],
            "trend": [
                {**point, "values": [point["parts"][p] for p in PARTS]} for point in card.trend
            ],
            "chart": chart,
            "groups": [{**g, "label": _group_label(g["group"])} for g in card.groups],
            "privacy_min": computed.privacy_min,
            "best_min_n": computed.best_min_n,
        },
    )


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


@login_required
def provider_scores_page(request: HttpRequest, organization_id: uuid.UUID) -> HttpResponse:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise Http404
    today = timezone.localdate()
    this_year = Period(dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1), str(today.year))
    last_months = parse_period("", today=today)
    blocks: list[dict[str, Any]] = []
    for title, period in (
        (_("This year"), this_year),
        (_("The last 12 months"), last_months),
    ):
        scored = provider_scores(
            organization_id=organization.pk, start=period.start, end=period.end
        )
        blocks.append(
            {
                "title": title,
                "start": period.start,
                "last": period.end - dt.timedelta(days=1),
                "scores": scored,
                "groups": [
                    {"label": _group_label(group), "row": row, "hidden": hidden}
                    for group, row, hidden in scored.groups
                ],
            }
        )
    return render(
        request,
        "evaluations/provider_scores.html",
        {
            "organization": organization,
            "blocks": blocks,
            "weight": indices.prior_weight(),
            "penalty": indices.complaint_penalty(),
            "privacy_min": privacy_min(),
        },
    )


urlpatterns = [
    path("scorecards/", scorecards_index, name="scorecards"),
    path("scorecards/<str:code>/", scorecard_detail, name="scorecard"),
    path("providers/<uuid:organization_id>/scores/", provider_scores_page, name="provider_scores"),
]
