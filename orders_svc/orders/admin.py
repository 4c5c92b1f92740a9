"""Operator pages for orders: read-only, since status moves only through the saga's rules."""

from django.contrib import admin
from service_kit.admin import ReadOnlyInline, ViewOnlyAdmin

from .models import Order, OrderLine, OrderStatusChange


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku", "quantity", "unit_price"]
    readonly_fields = fields


class OrderStatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    verbose_name = "status change"
    verbose_name_plural = "status history"
    fields = ["status", "reason", "occurred_at"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ViewOnlyAdmin):
    list_display = ["id", "user_id", "status", "cancel_reason", "total", "currency", "created_at"]
    list_filter = ["status", "cancel_reason"]
    # The correlation id is the request id in every log line of the saga, so an operator can trace one.
    search_fields = ["id", "user_id", "correlation_id"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "user_id",
        "status",
        "cancel_reason",
        "payment_method",
        "total",
        "currency",
        "idempotency_key",
        "request_fingerprint",
        "correlation_id",
        "reserved_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [OrderLineInline, OrderStatusChangeInline]
