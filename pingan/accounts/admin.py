from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class PinganUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "role", "org", "is_active", "locked_until")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name")
    fieldsets = UserAdmin.fieldsets + (
        (
            "平安",
            {"fields": ("role", "display_name", "phone", "org", "failed_logins", "locked_until")},
        ),
    )
