"""The register page's forms: the upload (the directory's own), and an unmasked export."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from linli.directory.spreadsheets.forms import UploadForm

__all__ = ["ExportForm", "UploadForm"]


class ExportForm(forms.Form):
    """Sensitive fields in clear: the purpose is checked by the export itself, and logged."""

    purpose = forms.CharField(
        label=gettext_lazy("Why you need the sensitive fields in clear"),
        max_length=500,
        widget=forms.TextInput(attrs={"size": 60}),
    )
