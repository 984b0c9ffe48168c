from django.contrib import admin

from .models import Grid, OrgUnit, SlaPolicy
from .services import bump_grid_version


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

    # Every process rebuilds its point → grid index when the version moves.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        bump_grid_version()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        bump_grid_version()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        bump_grid_version()


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
