from django.contrib import admin

from .models import Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "level", "kind", "population", "households"]
    list_filter = ["level", "kind"]
    search_fields = ["code", "name", "name_en"]
    raw_id_fields = ["parent"]
