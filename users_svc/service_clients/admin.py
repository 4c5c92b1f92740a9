"""Admin of service clients: scopes and activity are editable; the secret only through `ensure_service_client`."""

from django.contrib import admin

from .models import ServiceClient


@admin.register(ServiceClient)
class ServiceClientAdmin(admin.ModelAdmin):
    list_display = ["name", "scopes", "is_active", "created_at", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "scopes"]
    fields = ["name", "scopes", "is_active", "created_at", "updated_at"]
    readonly_fields = ["name", "created_at", "updated_at"]

    def has_add_permission(self, request):
        # A client needs a secret, made and handed to its service by `manage.py ensure_service_client`.
        return False
