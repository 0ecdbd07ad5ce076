from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import ChannelAddress, Delivery, Notification


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    readonly_fields = ["channel", "status", "detail", "at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: a notification is a record of what someone was told."""

    list_display = ["created_at", "user", "kind", "title", "read_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "title"]
    raw_id_fields = ["user", "request"]
    readonly_fields = [
        "user",
        "kind",
        "title",
        "body",
        "link",
        "request",
        "params",
        "created_at",
        "read_at",
    ]
    inlines = [DeliveryInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["at", "notification", "channel", "status", "detail"]
    list_filter = ["channel", "status"]
    raw_id_fields = ["notification"]
    readonly_fields = ["notification", "channel", "status", "detail", "at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ChannelAddress)
class ChannelAddressAdmin(admin.ModelAdmin):
    list_display = ["user", "channel", "created_at"]
    list_filter = ["channel"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
