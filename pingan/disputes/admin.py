"""Data maintenance: the risk rules are tuned here; disputes themselves change through services."""

from django.contrib import admin, messages

from .models import CaseOrder, Dispute, DisputeEvent, Party, RiskRule


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "level", "active", "description"]
    list_filter = ["kind", "level", "active"]
    list_editable = ["active"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        messages.info(request, "规则已保存：未化解纠纷将在一小时内按新规则重新评估。")


class PartyInline(admin.TabularInline):
    model = Party
    extra = 0
    fields = ["kind", "role", "name", "vulnerability", "notify"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = DisputeEvent
    extra = 0
    fields = ["at", "kind", "actor", "message"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "type", "channel", "risk", "status", "grid", "reported_at"]
    list_filter = ["risk", "status", "type", "channel", "route"]
    search_fields = ["code", "title"]
    date_hierarchy = "reported_at"
    inlines = [PartyInline, EventInline]
    # Read-only here: every change goes through the services, which keep the timeline,
    # statistics and pushes in step.
    readonly_fields = [f.name for f in Dispute._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CaseOrder)
class CaseOrderAdmin(admin.ModelAdmin):
    list_display = ["dispute", "owner", "deadline", "status", "supervising_org", "escalation_level"]
    list_filter = ["status", "escalation_level"]
    readonly_fields = [f.name for f in CaseOrder._meta.fields]

    def has_add_permission(self, request):
        return False
