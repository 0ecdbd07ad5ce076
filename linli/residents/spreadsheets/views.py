"""The register page: download the template or an export, upload a filled register.

Only those who keep the register (community workers, administrators) see it;
others get the site's 403 page. An upload's outcome is kept in the session and
shown after a redirect, so reloading the page never imports the same file
twice. The masked export is a link; an export in clear is a form that asks why.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.models import User
from linli.core.errors import ImportRejected, PermissionDenied, ValidationFailed
from linli.directory.spreadsheets.importer import SheetRowError
from linli.directory.spreadsheets.views import _errors
from linli.residents.services import keeper_scope

from .forms import ExportForm, UploadForm
from .importer import RegisterReport, register_import_xlsx
from .workbook import (
    CONTENT_TYPE,
    export_filename,
    register_export_xlsx,
    register_template_xlsx,
)

RESULT_KEY = "linli_residents_register_result"


def _keeper(request: HttpRequest) -> User:
    """The signed-in user, if they keep the register; the 403 page otherwise."""
    user = cast(User, request.user)
    try:
        keeper_scope(user)
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from error
    return user


def _imported(name: str, report: RegisterReport) -> dict[str, Any]:
    return {
        "file": name,
        "rejected": False,
        "created": report.created,
        "households_created": report.households_created,
        "households_joined": report.households_joined,
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
        "rows_refused": len({p.row for p in problems}),
        **_errors(problems),
    }


def _page(
    request: HttpRequest,
    *,
    form: UploadForm | None = None,
    export_form: ExportForm | None = None,
) -> HttpResponse:
    result = request.session.pop(RESULT_KEY, None) if request.method == "GET" else None
    form = form or UploadForm()
    export_form = export_form or ExportForm()
    status = 400 if form.errors or export_form.errors else 200
    return render(
        request,
        "residents/spreadsheets/index.html",
        {"form": form, "export_form": export_form, "result": result},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def register_page(request: HttpRequest) -> HttpResponse:
    user = _keeper(request)
    if request.method == "GET":
        return _page(request)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        name = upload.name or ""
        outcome: dict[str, Any] | None = None
        try:
            report = register_import_xlsx(
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
            return redirect("register:index")
    return _page(request, form=form)


def _download(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@login_required
@require_GET
def template_download(request: HttpRequest) -> HttpResponse:
    user = _keeper(request)
    return _download(register_template_xlsx(actor=user), "linli-residents-template.xlsx")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def export_download(request: HttpRequest) -> HttpResponse:
    """GET: the masked export. POST: sensitive fields in clear, for the purpose given."""
    user = _keeper(request)
    if request.method == "GET":
        return _download(register_export_xlsx(actor=user), export_filename(unmasked=False))
    form = ExportForm(request.POST)
    if form.is_valid():
        try:
            data = register_export_xlsx(
                actor=user, unmasked=True, purpose=form.cleaned_data["purpose"]
            )
        except ValidationFailed as error:
            for reason in error.fields.get("purpose", [error.message]):
                form.add_error("purpose", reason)
        else:
            return _download(data, export_filename(unmasked=True))
    return _page(request, export_form=form)
