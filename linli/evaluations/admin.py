"""The admin of the evaluations app: read-only, cut to each editor's communities.

Ratings, comments' moderation and complaints change through the services (the API and
the pages), which check who may act and keep the responder's mean; the admin shows.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from linli.accounts.admin_scope import ScopedAdmin

from .models import Complaint, ComplaintEvent, Evaluation, FacilityRating, FacilityVisit


class _ReadOnly(ScopedAdmin):
    scope_field = "community__code"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Evaluation)
class EvaluationAdmin(_ReadOnly):
    list_display = ["request", "overall", "need_met", "responder", "community", "created_at"]
    list_filter = ["overall", "need_met", "by_proxy"]
    raw_id_fields = ["request", "rater", "person", "responder", "hidden_by"]


@admin.register(Complaint)
class ComplaintAdmin(_ReadOnly):
    list_display = ["id", "state", "community", "respond_by", "created_at"]
    list_filter = ["state"]
    raw_id_fields = ["complainant", "person", "request", "responder", "answered_by"]


@admin.register(ComplaintEvent)
class ComplaintEventAdmin(_ReadOnly):
    scope_field = "complaint__community__code"
    list_display = ["complaint", "action", "to_state", "level", "at"]


@admin.register(FacilityVisit)
class FacilityVisitAdmin(_ReadOnly):
    list_display = ["facility", "person", "kind", "on", "community", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["facility", "person", "user", "recorded_by"]


@admin.register(FacilityRating)
class FacilityRatingAdmin(_ReadOnly):
    list_display = ["facility", "overall", "community", "by_proxy", "created_at"]
    list_filter = ["overall", "by_proxy"]
    raw_id_fields = ["visit", "rater", "facility", "hidden_by"]
