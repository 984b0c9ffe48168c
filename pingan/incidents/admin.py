from django.contrib import admin

from .models import Assignment, Category, Incident, IncidentEvent, Unit


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "default_priority", "active")
    list_filter = ("level", "active", "default_priority")
    list_editable = ("default_priority", "active")
    search_fields = ("code", "name")


class EventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "actor", "unit", "message", "data")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("code", "category", "status", "grid", "reported_at", "valid", "outcome")
    list_filter = ("status", "source", "valid")
    search_fields = ("code", "description", "address")
    date_hierarchy = "reported_at"
    raw_id_fields = ("grid", "reporter", "duplicate_of", "org")
    readonly_fields = ("code", "reported_at", "accepted_at", "arrived_at", "resolved_at")
    inlines = [EventInline]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "org", "on_duty", "position_at", "current_assignment")
    list_filter = ("kind", "on_duty")
    search_fields = ("name",)
    raw_id_fields = ("user", "current_assignment")
    filter_horizontal = ("members",)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("incident", "unit", "role", "status", "offered_at", "accepted_at")
    list_filter = ("status", "role")
    raw_id_fields = ("incident", "unit", "dispatched_by")
