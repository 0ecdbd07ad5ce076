"""The admin of the volunteers app, cut to each editor's area.

Statuses change through the services (verification makes a responder; certifying hours
credits the ledger), so the admin shows them read-only and offers the services as
actions. The time bank is append-only: accounts, transfers, movements and redemptions
are shown, never added, changed or deleted here; corrections are reversing transfers.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.admin_scope import ScopedAdmin
from linli.accounts.models import User
from linli.core.errors import LinliError

from .models import (
    Account,
    Activity,
    Attendance,
    Certificate,
    HoursDispute,
    Movement,
    Redemption,
    Signup,
    SocialWorker,
    StarAward,
    StarChallenge,
    Team,
    Transfer,
    Volunteer,
)
from .people import VERIFY, social_worker_decide, volunteer_decide


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never written: the ledger and what is frozen once issued."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ScopedReadOnlyAdmin(ScopedAdmin):
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(ScopedAdmin):
    scope_field = "community__code"
    list_display = ["name", "community", "organization", "created_at"]
    search_fields = ["name", "community__name", "organization__name"]
    raw_id_fields = ["community", "organization"]


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _decide(
    admin_: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any], decide: Any
) -> None:
    done = 0
    for record in queryset:
        try:
            decide(record)
        except LinliError as error:
            admin_.message_user(request, f"{record}: {error.message}", messages.ERROR)
        else:
            done += 1
    if done:
        admin_.message_user(request, _("%(n)s verified.") % {"n": done}, messages.SUCCESS)


@admin.register(Volunteer)
class VolunteerAdmin(ScopedAdmin):
    """Volunteers of the editor's communities; verified through the action (which makes
    their responder), not by editing the status."""

    scope_field = "community__code"
    list_display = ["name", "community", "organization", "status", "registered_at"]
    list_filter = ["status"]
    search_fields = ["name", "user__username", "community__name", "community__code"]
    raw_id_fields = ["user", "resident", "community", "organization", "responder", "verified_by"]
    filter_horizontal = ["skills", "teams"]
    readonly_fields = [
        "status",
        "status_reason",
        "verified_by",
        "verified_at",
        "responder",
        "registered_at",
    ]
    actions = ["verify"]

    @admin.action(description=gettext_lazy("Verify the selected volunteers"))
    def verify(self, request: HttpRequest, queryset: QuerySet[Volunteer]) -> None:
        _decide(
            self,
            request,
            queryset,
            lambda v: volunteer_decide(actor=_actor(request), volunteer=v, decision=VERIFY),
        )


@admin.register(SocialWorker)
class SocialWorkerAdmin(ScopedAdmin):
    scope_field = "community__code"
    list_display = [
        "name",
        "qualification",
        "certificate_number",
        "community",
        "organization",
        "status",
    ]
    list_filter = ["qualification", "status"]
    search_fields = ["name", "certificate_number", "user__username"]
    raw_id_fields = ["user", "community", "organization", "verified_by"]
    readonly_fields = ["status", "verified_by", "verified_at", "registered_at"]
    actions = ["verify"]

    @admin.action(description=gettext_lazy("Verify the selected social workers"))
    def verify(self, request: HttpRequest, queryset: QuerySet[SocialWorker]) -> None:
        _decide(
            self,
            request,
            queryset,
            lambda w: social_worker_decide(actor=_actor(request), worker=w, decision=VERIFY),
        )


@admin.register(Activity)
class ActivityAdmin(ScopedAdmin):
    scope_field = "community__code"
    list_display = ["title", "community", "organization", "starts_at", "capacity", "status"]
    list_filter = ["status"]
    search_fields = ["title", "address", "community__name"]
    raw_id_fields = ["community", "organization", "team", "created_by"]
    filter_horizontal = ["skills"]
    readonly_fields = ["status", "created_at"]
    date_hierarchy = "starts_at"


@admin.register(Signup)
class SignupAdmin(ScopedReadOnlyAdmin):
    scope_field = "activity__community__code"
    list_display = ["activity", "volunteer", "status", "applied_at"]
    list_filter = ["status"]
    search_fields = ["activity__title", "volunteer__name"]


@admin.register(Attendance)
class AttendanceAdmin(ScopedReadOnlyAdmin):
    """Whoever organizes records; whoever records certifies: shown as recorded."""

    scope_field = "signup__activity__community__code"
    list_display = [
        "signup",
        "method",
        "checked_in_at",
        "checked_out_at",
        "hours",
        "recorded_by",
        "certified_by",
    ]
    list_filter = ["method"]


@admin.register(HoursDispute)
class HoursDisputeAdmin(ScopedReadOnlyAdmin):
    scope_field = "attendance__signup__activity__community__code"
    list_display = ["attendance", "claimed_hours", "status", "raised_at", "answered_at"]
    list_filter = ["status"]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "balance", "created_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "organization__name", "community__name", "community__code"]


class MovementInline(admin.TabularInline):
    model = Movement
    extra = 0
    fields = ["account", "amount"]
    readonly_fields = ["account", "amount"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "memo", "earned_by", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["memo", "earned_by__username", "request__public_id"]
    date_hierarchy = "created_at"
    inlines = [MovementInline]


@admin.register(Movement)
class MovementAdmin(ReadOnlyAdmin):
    list_display = ["transfer", "account", "amount"]
    list_filter = ["account__kind"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["beneficiary", "request", "hours", "status", "created_by", "created_at"]
    list_filter = ["status"]
    search_fields = ["request__public_id", "created_by__username"]


@admin.register(StarAward)
class StarAwardAdmin(ScopedReadOnlyAdmin):
    scope_field = "volunteer__community__code"
    list_display = ["volunteer", "level", "hours", "status", "notice_until"]
    list_filter = ["status", "level"]


@admin.register(StarChallenge)
class StarChallengeAdmin(ScopedReadOnlyAdmin):
    scope_field = "award__volunteer__community__code"
    list_display = ["award", "status", "raised_at"]
    list_filter = ["status"]


@admin.register(Certificate)
class CertificateAdmin(ScopedReadOnlyAdmin):
    """Frozen at issue: what a certificate says never changes."""

    scope_field = "volunteer__community__code"
    list_display = ["code", "volunteer", "total_hours", "issued_at"]
    search_fields = ["code", "volunteer__name"]
