from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    raw_id_fields = ["region", "organization", "granted_by"]


@admin.register(User)
class LinliUserAdmin(UserAdmin):
    inlines = [RoleAssignmentInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "region", "granted_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "region__code", "region__name"]
    raw_id_fields = ["user", "region", "organization", "granted_by"]
