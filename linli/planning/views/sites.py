"""Where to build next, as a page: the form, the runs of the user's area, one run's sites,
coverage before and after, and a map of existing, committed and proposed sites.

POST runs `sites.siting_run` (fast by default; the "exact" button asks HiGHS) and redirects
to the stored run; a refusal comes back as the form with the field and the reason.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.core.errors import LinliError, ValidationFailed
from linli.directory.choices import FacilityKind
from linli.directory.views import map_settings
from linli.residents.choices import PriorityGroup

from .. import sites
from ..models import SitingModel, SitingRun
from ..selectors import parse_day

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
RECENT_RUNS = 20
FORM_FIELDS = ("kind", "region", "model", "k", "budget", "radius", "date")


def _group_rows(run: SitingRun) -> list[dict[str, Any]]:
    labels = dict(PriorityGroup.choices)
    rows = []
    for row in run.results.get("coverage", {}).get("people", []):
        total = row["total"] or 0
        share = {
            key: (100 * row[key] / total if total else None)
            for key in ("current", "committed", "proposed")
        }
        rows.append(
            {
                **row,
                "label": labels.get(row["group"], _("Everyone")) if row["group"] else _("Everyone"),
                "share": share,
                "rise": row["proposed"] - row["committed"],
            }
        )
    return rows


def run_map(run: SitingRun) -> dict[str, Any]:
    """What sites_map.js draws: three layers of points, each with its radius circle."""
    radius = run.parameters.get("radius")
    return {
        "tiles": map_settings(),
        "radius": radius,
        "layers": {
            role: [
                {"lat": s["lat"], "lon": s["lon"], "name": s["name"], "rank": s.get("rank")}
                for s in run.results.get(role, [])
            ]
            for role in ("existing", "committed", "sites")
        },
        "labels": {
            "existing": _("Existing"),
            "committed": _("Committed (funded project)"),
            "sites": _("Proposed"),
        },
    }


def _context(request: HttpRequest, *, weights: dict[str, str], **extra: Any) -> dict[str, Any]:
    runs = list(sites.runs_visible(request.user)[:RECENT_RUNS])
    return {
        "weight_fields": [
            (code, label, weights.get(code, "")) for code, label in PriorityGroup.choices
        ],
        "kinds": FacilityKind.choices,
        "models": SitingModel.choices,
        "groups": PriorityGroup.choices,
        "runs": runs,
        "default_radius": int(sites.DEFAULT_RADIUS_M),
        **extra,
    }


def _read_upload(request: HttpRequest) -> sites.CandidateFile | None:
    upload = request.FILES.get("candidates")
    if upload is None or not upload.name:
        return None
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            fields={"candidates": [_("The file is larger than 5 MB: thin the candidates out.")]}
        )
    return sites.candidates_read(content=upload.read(), filename=upload.name)


@login_required
@require_http_methods(["GET", "POST"])
def sites_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _run_post(request)
    return _show(request)


def _run_post(request: HttpRequest) -> HttpResponse:
    values = {name: request.POST.get(name, "").strip() for name in FORM_FIELDS}
    weights = {
        group: request.POST.get(f"weight_{group}", "").strip()
        for group in PriorityGroup.values
        if request.POST.get(f"weight_{group}", "").strip()
    }
    try:
        day = parse_day(values["date"] or None)
        run = sites.siting_run(
            actor=request.user,
            region_code=values["region"],
            kind=values["kind"],
            k=values["k"] or None,
            budget=values["budget"] or None,
            radius=values["radius"] or None,
            weights=weights,
            model=values["model"] or SitingModel.MCLP,
            exact=request.POST.get("exact") == "1",
            candidates=_read_upload(request),
            day=day,
            via="web",
        )
    except LinliError as error:
        return render(
            request,
            "planning/sites.html",
            _context(
                request,
                values=values,
                weights=weights,
                error=error.message,
                errors=error.fields,
            ),
            status=error.status,
        )
    return redirect(f"{reverse('planning:sites')}?run={run.pk}")


def _show(request: HttpRequest) -> HttpResponse:
    run: SitingRun | None = None
    run_id = request.GET.get("run", "")
    if run_id:
        run = (
            sites.runs_visible(request.user).filter(pk=run_id).first() if run_id.isdigit() else None
        )
        if run is None:
            return render(
                request,
                "planning/sites.html",
                _context(request, values={}, weights={}, error=_("No such run in your area.")),
                status=404,
            )
    values = {"model": SitingModel.MCLP, "radius": str(int(sites.DEFAULT_RADIUS_M))}
    shown: dict[str, str] = {}
    if run is not None:
        values = {
            "kind": run.kind,
            "region": run.region_id,
            "model": run.model,
            "k": run.parameters.get("k") or "",
            "budget": run.parameters.get("budget") or "",
            "radius": f"{run.parameters.get('radius', sites.DEFAULT_RADIUS_M):g}",
            "date": run.day.isoformat(),
        }
        shown = {g: f"{w:g}" for g, w in run.parameters.get("weights", {}).items()}
    return render(
        request,
        "planning/sites.html",
        _context(
            request,
            values=values,
            weights=shown,
            run=run,
            group_rows=_group_rows(run) if run else [],
            map=run_map(run) if run else None,
            kind_label=dict(FacilityKind.choices).get(run.kind, run.kind) if run else "",
            gap_percent=100 * run.results["gap"]
            if run is not None and run.results.get("gap") is not None
            else None,
        ),
    )


urlpatterns = [path("sites/", sites_page, name="sites")]
