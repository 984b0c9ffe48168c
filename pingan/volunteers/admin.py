"""Data maintenance. Profiles and a team's description or approval rule may be corrected here;
memberships, tasks and sign-ups are read-only, because their changes go through the services
(slots and the waiting list, role changes, pushes and texts, points for confirmed work)."""

from django.contrib import admin

from .models import Membership, ReportPhoto, Signup, Task, Team, VolunteerProfile


class ReadOnlyAdmin(admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VolunteerProfile)
class VolunteerProfileAdmin(admin.ModelAdmin):
    list_display = ["real_name", "user", "home_grid", "updated_at"]
    search_fields = ["real_name", "user__username"]
    list_select_related = ["user", "home_grid"]
    raw_id_fields = ["user", "home_grid"]
    readonly_fields = ["user", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "status", "applied_at", "joined_at", "ended_at", "note"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "org", "leader", "requires_approval", "active", "created_at"]
    list_filter = ["requires_approval", "active"]
    search_fields = ["code", "name"]
    list_select_related = ["org", "leader"]
    # Code, unit and invite token are fixed here: the invite is reset through the console, and
    # the leader is changed there too (a resident leader must also become a member).
    readonly_fields = [
        "code",
        "org",
        "org_path",
        "leader",
        "invite_token",
        "created_at",
        "created_by",
    ]
    filter_horizontal = ["grids"]
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["team", "user", "status", "applied_at", "joined_at", "ended_at"]
    list_filter = ["status"]
    search_fields = ["team__code", "team__name", "user__username"]
    list_select_related = ["team", "user"]


class SignupInline(admin.TabularInline):
    model = Signup
    extra = 0
    fields = ["user", "status", "created_at", "checked_in_at", "checked_out_at", "review"]
    readonly_fields = fields
    can_delete = False
    ordering = ["pk"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["code", "title", "kind", "org", "starts_at", "slots", "taken", "status"]
    list_filter = ["status", "kind"]
    search_fields = ["code", "title"]
    date_hierarchy = "starts_at"
    list_select_related = ["org"]
    inlines = [SignupInline]


class ReportPhotoInline(admin.TabularInline):
    model = ReportPhoto
    extra = 0
    fields = ["image", "content_type", "size", "uploaded_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Signup)
class SignupAdmin(ReadOnlyAdmin):
    list_display = ["task", "user", "status", "checked_in_at", "review", "hours", "points_awarded"]
    list_filter = ["status", "review", "checkin_method"]
    search_fields = ["task__code", "user__username"]
    list_select_related = ["task", "user"]
    inlines = [ReportPhotoInline]
