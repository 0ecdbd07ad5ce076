"""The admin for what a deployment configures about requests: partner systems (Open311),
responders and service levels. Requests themselves, their events and assignments hold
personal data and are worked on in Linli's own pages, with their access rules, not here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.admin_scope import ScopedAdmin
from linli.directory.models import TaxonomyTerm
from linli.directory.taxonomy import SERVICES_TAXONOMY, taxonomy_uuid

from .models import Open311Partner, Responder, ServiceLevel
from .open311.services import open311_key_assign, open311_key_rotate

KEY_TEMPLATE = "admin/requests/open311partner/key_issued.html"


def _services() -> QuerySet[TaxonomyTerm]:
    return TaxonomyTerm.objects.filter(taxonomy_ref_id=taxonomy_uuid(SERVICES_TAXONOMY))


@admin.register(Open311Partner)
class Open311PartnerAdmin(admin.ModelAdmin):
    """Adding a partner issues its api_key, shown once on the page that follows; only the
    key's hash and first characters are stored."""

    list_display = ["name", "region", "key_prefix", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "key_prefix", "region__name", "region__code"]
    raw_id_fields = ["region"]
    readonly_fields = ["key_prefix", "created_at"]
    actions = ["issue_new_key"]

    def get_fields(self, request: HttpRequest, obj: Open311Partner | None = None) -> Any:
        if obj is None:
            return ["name", "region", "active"]
        return ["name", "region", "active", "key_prefix", "created_at"]

    def save_model(
        self, request: HttpRequest, obj: Open311Partner, form: ModelForm, change: bool
    ) -> None:
        if not change:
            # Kept on the instance for response_add only; never saved, never logged.
            obj._issued_key = open311_key_assign(partner=obj)  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def _show_key(self, request: HttpRequest, partner: Open311Partner, key: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("api_key issued"),
            "partner": partner,
            "key": key,
        }
        response = TemplateResponse(request, KEY_TEMPLATE, context)
        response["Cache-Control"] = "no-store"
        return response

    def response_add(
        self, request: HttpRequest, obj: Open311Partner, post_url_continue: str | None = None
    ) -> HttpResponse:
        key = getattr(obj, "_issued_key", "")
        if not key:
            return super().response_add(request, obj, post_url_continue)
        return self._show_key(request, obj, key)

    @admin.action(description=gettext_lazy("Issue a new api_key (the old one stops working)"))
    def issue_new_key(
        self, request: HttpRequest, queryset: QuerySet[Open311Partner]
    ) -> HttpResponse | None:
        partners = list(queryset[:2])
        if len(partners) != 1:
            self.message_user(
                request, _("Choose exactly one partner: each key is shown once."), messages.ERROR
            )
            return None
        partner = partners[0]
        key = open311_key_rotate(partner=partner)
        self.log_change(request, partner, _("Issued a new api_key."))
        return self._show_key(request, partner, key)


@admin.register(Responder)
class ResponderAdmin(ScopedAdmin):
    """Responders of the editor's area."""

    list_display = ["name", "kind", "region", "organization", "status", "max_open_tasks"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "region__name", "region__code", "organization__name"]
    raw_id_fields = ["user", "organization", "region"]
    filter_horizontal = ["skills"]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "skills":
            kwargs["queryset"] = _services().order_by("code")
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(ServiceLevel)
class ServiceLevelAdmin(admin.ModelAdmin):
    """Service-level targets; a row without a service is the default for its urgency."""

    list_display = ["service", "urgency", "respond_minutes", "resolve_minutes"]
    list_filter = ["urgency"]
    search_fields = ["service__code", "service__name", "service__name_en"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "service":
            kwargs["queryset"] = _services().order_by("code")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
