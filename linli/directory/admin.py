from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from linli.accounts.admin_scope import ScopedAdmin, ScopedInline, is_editor
from linli.regions.choices import RegionLevel

from . import models
from .validators import validate_point


class LocationForm(forms.ModelForm):
    class Meta:
        model = models.Location
        exclude: list[str] = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field, reasons in validate_point(
            cleaned.get("latitude"), cleaned.get("longitude")
        ).items():
            for reason in reasons:
                self.add_error(field, reason)
        return cleaned


class ScheduleInline(ScopedInline):
    model = models.Schedule
    fk_name = "location"
    fields = ["byday", "opens_at", "closes_at", "valid_from", "valid_to", "description"]


class AccessibilityInline(ScopedInline):
    model = models.Accessibility
    fields = ["details", "description", "url"]


class AddressInline(ScopedInline):
    model = models.Address
    fields = ["address_1", "address_2", "city", "region", "state_province", "postal_code"]


class PhoneInline(ScopedInline):
    model = models.Phone
    fk_name = "location"
    fields = ["number", "extension", "type", "description"]


class ServiceAtLocationInline(ScopedInline):
    model = models.ServiceAtLocation
    fk_name = "location"
    raw_id_fields = ["service"]
    fields = ["service", "description"]


@admin.register(models.Location)
class FacilityAdmin(ScopedAdmin):
    form = LocationForm
    region_levels = (RegionLevel.COMMUNITY,)
    list_display = ["name", "kind", "region", "organization", "opened_on", "closed_on"]
    list_filter = ["kind", "location_type"]
    search_fields = ["name", "alternate_name", "region__name", "region__code"]
    raw_id_fields = ["organization"]
    inlines = [
        AddressInline,
        ScheduleInline,
        AccessibilityInline,
        PhoneInline,
        ServiceAtLocationInline,
    ]


@admin.register(models.Organization)
class OrganizationAdmin(ScopedAdmin):
    list_display = ["name", "kind", "credit_code", "verified", "region"]
    list_filter = ["kind", "verified"]
    search_fields = ["name", "alternate_name", "credit_code"]
    raw_id_fields = ["parent_organization"]


class ServiceScheduleInline(ScopedInline):
    model = models.Schedule
    fk_name = "service"
    fields = ["byday", "opens_at", "closes_at", "valid_from", "valid_to", "description"]


class CostOptionInline(ScopedInline):
    model = models.CostOption
    fields = ["option", "amount", "currency", "amount_description", "valid_from", "valid_to"]


@admin.register(models.Service)
class ServiceAdmin(ScopedAdmin):
    scope_field = "organization__region__code"
    list_display = ["name", "organization", "status", "fee_kind", "at_home", "online"]
    list_filter = ["status", "fee_kind", "at_home", "online"]
    search_fields = ["name", "alternate_name", "description", "organization__name"]
    raw_id_fields = ["organization", "program"]
    inlines = [ServiceScheduleInline, CostOptionInline]


class TaxonomyOnlyForAdmins(admin.ModelAdmin):
    """The taxonomy is the deployment's vocabulary: only system administrators change it."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_editor(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_editor(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    has_add_permission = has_delete_permission = has_change_permission


@admin.register(models.Taxonomy)
class TaxonomyAdmin(TaxonomyOnlyForAdmins):
    list_display = ["name", "version", "uri"]


@admin.register(models.TaxonomyTerm)
class TaxonomyTermAdmin(TaxonomyOnlyForAdmins):
    list_display = ["code", "name", "name_en", "parent", "taxonomy_ref"]
    list_filter = ["taxonomy_ref"]
    search_fields = ["code", "name", "name_en"]
    raw_id_fields = ["parent"]


@admin.register(models.Attribute)
class AttributeAdmin(TaxonomyOnlyForAdmins):
    list_display = ["link_entity", "link_id", "link_type", "taxonomy_term", "value"]
    list_filter = ["link_entity", "link_type"]
    raw_id_fields = ["taxonomy_term"]
