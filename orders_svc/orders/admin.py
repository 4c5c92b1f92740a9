"""Operator pages for orders: read-only, since status moves only through the saga's rules."""

from django.contrib import admin
from django.utils.timesince import timesince
from service_kit.admin import ReadOnlyInline, ViewOnlyAdmin

from .models import Order, OrderLine, OrderStatusChange, ReconciliationFinding, ReconciliationRun


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
    """Orders by age in each state: filter by status and the oldest, the ones most likely stuck, come
    first when sorted by "in this state since"."""

    list_display = ["id", "user_id", "status", "cancel_reason", "total", "currency", "created_at", "in_state_for"]
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

    @admin.display(description="in this state for", ordering="updated_at")
    def in_state_for(self, order: Order) -> str:
        return timesince(order.updated_at)


class ReconciliationFindingInline(ReadOnlyInline):
    model = ReconciliationFinding
    fields = ["kind", "order_id", "sku", "detail", "created_at"]
    readonly_fields = fields


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ViewOnlyAdmin):
    list_display = ["id", "status", "trigger", "started_at", "finished_at", "orders_checked", "findings_count"]
    list_filter = ["status", "trigger"]
    date_hierarchy = "started_at"
    fields = [
        "id",
        "status",
        "trigger",
        "window_start",
        "window_end",
        "orders_checked",
        "skus_checked",
        "findings_count",
        "error",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields
    inlines = [ReconciliationFindingInline]


@admin.register(ReconciliationFinding)
class ReconciliationFindingAdmin(ViewOnlyAdmin):
    list_display = ["id", "kind", "order_id", "sku", "run", "created_at"]
    list_filter = ["kind", "run__status"]
    search_fields = ["order_id", "sku", "detail"]
    date_hierarchy = "created_at"
    fields = ["run", "kind", "order_id", "sku", "detail", "created_at"]
    readonly_fields = fields
    list_select_related = ["run"]
