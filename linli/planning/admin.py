"""The admin of the planning app.

Indicators are the deployment's: a system administrator edits them, and a computation
typed here is checked by specs.validate_spec, which names the wrong part. Targets are cut
to each editor's area (a district's own targets); the defaults (no region) are a system
administrator's.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext as _

from linli.accounts.admin_scope import ScopedAdmin, editor_scope, is_editor
from linli.core.errors import ValidationFailed

from .models import Indicator, IndicatorTarget
from .specs import validate_spec


def _is_system_admin(request: HttpRequest) -> bool:
    return request.user.is_active and editor_scope(request).everything


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = Indicator
        fields = [
            "code",
            "name_zh",
            "name_en",
            "section",
            "unit",
            "direction",
            "numerator_text",
            "denominator_text",
            "scale",
            "spec",
            "verified",
            "source",
            "details",
            "origin",
            "order",
            "active",
        ]

    def clean_spec(self) -> Any:
        spec = self.cleaned_data.get("spec")
        if spec in (None, "", {}):
            return None
        try:
            return validate_spec(spec)
        except ValidationFailed as error:
            raise forms.ValidationError(
                [
                    f"{name}: {message}"
                    for name, messages in error.fields.items()
                    for message in messages
                ]
            ) from None


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    form = IndicatorForm
    list_display = ["code", "name_zh", "name_en", "section", "unit", "verified", "origin", "active"]
    list_filter = ["section", "verified", "origin", "active"]
    search_fields = ["code", "name_zh", "name_en"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_editor(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_editor(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_system_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_system_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_system_admin(request)


class TargetForm(forms.ModelForm):
    class Meta:
        model = IndicatorTarget
        fields = ["indicator", "region", "year", "value", "is_baseline", "note"]

    request: HttpRequest | None = None

    def clean_region(self) -> Any:
        region = self.cleaned_data.get("region")
        if region is None and self.request is not None and not _is_system_admin(self.request):
            raise forms.ValidationError(_("Choose a region: the defaults are the deployment's."))
        return region


@admin.register(IndicatorTarget)
class IndicatorTargetAdmin(ScopedAdmin):
    form = TargetForm
    list_display = ["indicator", "region", "year", "value", "is_baseline", "updated_at"]
    list_filter = ["is_baseline", "year"]
    raw_id_fields = ["region"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        # modelform_factory makes a new class per call, so this is this request's alone.
        form.request = request  # type: ignore[attr-defined]
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.set_by = request.user
        super().save_model(request, obj, form, change)
