from django.contrib import admin

from .models import Grid, OrgUnit, SlaPolicy


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    readonly_fields = ("path",)


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "org", "officer", "area_km2")
    list_filter = ("kind", "org")
    search_fields = ("code", "name")
    exclude = ("boundary",)
    readonly_fields = ("centroid_lng", "centroid_lat", "area_km2")
    filter_horizontal = ("auxiliaries", "grid_workers")


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "org",
        "accept_seconds",
        "arrive_seconds",
        "reinforce_seconds",
        "rural_arrive_seconds",
        "rural_reinforce_seconds",
    )
