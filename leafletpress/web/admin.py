"""The admin, for `beheer`: accounts and roles (Django's own), the audit log (read-only)."""

from typing import Any

from django.contrib import admin

from .models import AuditEvent

admin.site.site_header = "leafletpress – beheer"
admin.site.site_title = "leafletpress"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "user", "action", "reference", "leaflet", "detail")
    list_filter = ("action",)
    search_fields = ("user", "reference", "leaflet")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
