"""The spreadsheet page: download the template or an export, upload a filled workbook.

Only people with a writing role see it (others get the site's 403 page). An
upload's outcome is kept in the session and shown after a redirect, so
reloading the page never imports the same file twice.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.models import User
from linli.core.errors import ImportRejected, PermissionDenied, ValidationFailed
from linli.directory.services import directory_write_scope

from .forms import UploadForm
from .importer import SheetRowError, SpreadsheetReport, directory_import_xlsx
from .workbook import CONTENT_TYPE, directory_export_xlsx, directory_template_xlsx

RESULT_KEY = "linli_directory_spreadsheet_result"
# A page listing more problems than this helps nobody: the first ones show what to fix.
MAX_LISTED_ERRORS = 300


def _writer(request: HttpRequest) -> User:
    """The signed-in user, if a role lets them keep the directory; the 403 page otherwise."""
    user = cast(User, request.user)
    try:
        directory_write_scope(user)
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from error
    return user


def _errors(problems: list[SheetRowError]) -> dict[str, Any]:
    return {
        "errors": [
            {"sheet": p.sheet, "row": p.row, "column": p.field, "message": p.message}
            for p in problems[:MAX_LISTED_ERRORS]
        ],
        "more_errors": max(0, len(problems) - MAX_LISTED_ERRORS),
    }


def _imported(name: str, report: SpreadsheetReport) -> dict[str, Any]:
    return {
        "file": name,
        "rejected": False,
        "counts": {
            "organizations": vars(report.organizations),
            "facilities": vars(report.facilities),
        },
        "rows_refused": report.rows_refused,
        "warnings": report.warnings,
        **_errors(report.errors),
    }


def _rejected(name: str, error: ImportRejected) -> dict[str, Any]:
    problems = [p for p in error.rows if isinstance(p, SheetRowError)]
    return {
        "file": name,
        "rejected": True,
        "message": error.message,
        "rows_refused": len({(p.sheet, p.row) for p in problems}),
        **_errors(problems),
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def spreadsheet_page(request: HttpRequest) -> HttpResponse:
    user = _writer(request)
    form = UploadForm()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            name = upload.name or ""
            outcome: dict[str, Any] | None = None
            try:
                report = directory_import_xlsx(
                    actor=user, data=upload.read(), partial=form.cleaned_data["partial"]
                )
            except ImportRejected as error:
                outcome = _rejected(name, error)
            except ValidationFailed as error:
                form.add_error("file", error.message)
            else:
                outcome = _imported(name, report)
            if outcome is not None:
                request.session[RESULT_KEY] = outcome
                return redirect("spreadsheets:index")
    result = request.session.pop(RESULT_KEY, None) if request.method == "GET" else None
    status = 400 if form.errors else 200
    return render(
        request,
        "directory/spreadsheets/index.html",
        {"form": form, "result": result},
        status=status,
    )


def _download(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@login_required
@require_GET
def template_download(request: HttpRequest) -> HttpResponse:
    user = _writer(request)
    return _download(directory_template_xlsx(actor=user), "linli-directory-template.xlsx")


@never_cache
@login_required
@require_GET
def export_download(request: HttpRequest) -> HttpResponse:
    user = _writer(request)
    today = timezone.localdate().isoformat()
    return _download(directory_export_xlsx(actor=user), f"linli-directory-{today}.xlsx")
