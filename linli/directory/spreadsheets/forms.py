"""The upload form of the spreadsheet page: one workbook, and whether to keep the good rows."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .workbook import CONTENT_TYPE

# A community's workbook is tens of kilobytes; a whole city's is a few megabytes.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "LINLI_SPREADSHEET_MAX_BYTES", DEFAULT_MAX_BYTES))


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Filled-in workbook (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": f".xlsx,{CONTENT_TYPE}"}),
    )
    partial = forms.BooleanField(
        label=gettext_lazy("If some rows have problems, import the good rows anyway"),
        required=False,
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = max_upload_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB; split it into smaller workbooks.")
                % {"limit": round(limit / 1024 / 1024, 1)}
            )
        if not (upload.name or "").lower().endswith(".xlsx"):
            raise forms.ValidationError(
                _(
                    "Choose an Excel workbook (.xlsx). Older .xls files and CSV files are not "
                    "read: open them in Excel and save as “Excel Workbook (*.xlsx)”."
                )
            )
        return upload
