"""Operator pages for payments: read-only, since money moves only through the gateway."""

from django.contrib import admin

from .models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["id", "order_id", "user_id", "amount", "currency", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["id", "order_id", "user_id", "gateway_reference"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "order_id",
        "user_id",
        "amount",
        "currency",
        "payment_method",
        "status",
        "gateway_reference",
        "decline_code",
        "refunded_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
