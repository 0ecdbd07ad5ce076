from django.contrib import admin
from django.http import HttpRequest

from .models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """Every run of a periodic job: a late, failed or skipped run is visible here."""

    list_display = ["started_at", "name", "status", "runner", "due_at", "finished_at"]
    list_filter = ["status", "name", "runner"]
    readonly_fields = [
        "name",
        "runner",
        "due_at",
        "started_at",
        "finished_at",
        "status",
        "detail",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
