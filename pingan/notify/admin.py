from django.contrib import admin

from .models import OutboundMessage


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "phone", "text", "topic", "status", "attempts", "sent_at"]
    list_filter = ["status", "backend"]
    search_fields = ["topic"]  # phone is encrypted: it cannot be searched by part
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]

    def has_add_permission(self, request):
        return False
