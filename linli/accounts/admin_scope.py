"""The Django admin, cut to each editor's area.

A model admin that mixes this in shows, and lets its user change, only the
records whose region lies in the user's scope, and offers only regions in
that scope in its forms. Who may use it at all is decided by role
(EDITOR_ROLES), not by Django's per-model permissions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from linli.regions.models import Region

from .roles import EDITOR_ROLES
from .selectors import Scope, user_scope


def editor_scope(request: HttpRequest) -> Scope:
    """Where the user keeps records: through their editing roles only."""
    return user_scope(request.user, roles=EDITOR_ROLES)


def is_editor(request: HttpRequest) -> bool:
    user = request.user
    return user.is_active and not editor_scope(request).is_empty


class ScopedAdmin(admin.ModelAdmin):
    #: The region code of a record, as a lookup ("region__code", "location__region__code").
    scope_field = "region__code"
    #: The lowest level a record's region may be (facilities sit in communities and villages).
    region_levels: tuple[str, ...] | None = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        return queryset.filter(editor_scope(request).q(self.scope_field))

    def _allowed(self, request: HttpRequest, obj: Model | None) -> bool:
        if not is_editor(request):
            return False
        if obj is None:
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_editor(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return is_editor(request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Region:
            regions = Region.objects.filter(editor_scope(request).q("code"))
            if self.region_levels:
                regions = regions.filter(level__in=self.region_levels)
            kwargs["queryset"] = regions.order_by("code")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedInline(admin.TabularInline):
    """An inline inside a scoped admin: its parent's permission decides."""

    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_editor(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_editor(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_editor(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_editor(request)
