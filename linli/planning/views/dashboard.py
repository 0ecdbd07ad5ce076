"""The planning dashboard: indicators with targets and progress, drill-down, the full
coverage gap list and the trend, for a region of the user's scope and a date.

The view parses the query, calls selectors.dashboard, and renders; a bad region or date
comes back as the page with the field and the reason, never a server error.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from linli.core.errors import LinliError

from .. import selectors
from ..choices import TrendStep


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    values = {k: request.GET.get(k, "") for k in ("region", "date", "trend", "periods")}
    try:
        board = selectors.dashboard(
            request.user,
            region_code=values["region"] or None,
            day_text=values["date"] or None,
            trend_step=values["trend"] or None,
            trend_count=values["periods"] or None,
        )
    except LinliError as error:
        return render(
            request,
            "planning/dashboard.html",
            {
                "board": None,
                "values": values,
                "error": error.message,
                "errors": error.fields,
                "trend_steps": TrendStep.choices,
            },
            status=error.status,
        )
    return render(
        request,
        "planning/dashboard.html",
        {"board": board, "values": values, "trend_steps": TrendStep.choices},
    )


urlpatterns = [path("", dashboard, name="dashboard")]
