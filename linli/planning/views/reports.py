"""Report downloads from the dashboard: /planning/report.xlsx and /planning/report.pdf
(?region=&date=), scoped with the dashboard's own selector; a refusal is the dashboard
page with the field and the reason (403 outside the scope, 404 for an unknown region)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from linli.core.errors import LinliError

from .. import reports
from ..choices import TrendStep


def _download(request: HttpRequest, fmt: str) -> HttpResponse:
    values = {k: request.GET.get(k, "") for k in ("region", "date")}
    try:
        data = reports.report_data(
            request.user, region_code=values["region"] or None, day_text=values["date"] or None
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
    content_type = reports.XLSX_CONTENT_TYPE if fmt == "xlsx" else reports.PDF_CONTENT_TYPE
    response = HttpResponse(reports.build(data, fmt), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{reports.filename(data, fmt)}"'
    return response


@login_required
@require_GET
def report_xlsx(request: HttpRequest) -> HttpResponse:
    return _download(request, "xlsx")


@login_required
@require_GET
def report_pdf(request: HttpRequest) -> HttpResponse:
    return _download(request, "pdf")


urlpatterns = [
    path("report.xlsx", report_xlsx, name="report_xlsx"),
    path("report.pdf", report_pdf, name="report_pdf"),
]
