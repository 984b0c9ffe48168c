from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_ref", "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_ref", "actor_label"]
    date_hierarchy = "at"

    # Read-only for everyone, superusers included: the log is append-only.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
