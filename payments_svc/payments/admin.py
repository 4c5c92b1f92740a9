"""Operator pages for payments: read-only, since money moves only through the gateway."""

from django.contrib import admin
from service_kit.admin import ViewOnlyAdmin

from .models import Payment


@admin.register(Payment)
class PaymentAdmin(ViewOnlyAdmin):
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
