"""Operator pages for payments: read-only, since money moves only through the gateway."""

from django.contrib import admin
from service_kit.admin import ViewOnlyAdmin, admin_link

from .models import Payment


@admin.register(Payment)
class PaymentAdmin(ViewOnlyAdmin):
    list_display = ["id", "order", "user", "amount", "currency", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["id", "order_id", "user_id", "gateway_reference"]
    date_hierarchy = "created_at"
    fields = [
        "id",
        "order",
        "user",
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

    @admin.display(description="order", ordering="order_id")
    def order(self, payment: Payment) -> str:
        return admin_link("orders", "orders/order", payment.order_id)

    @admin.display(description="user", ordering="user_id")
    def user(self, payment: Payment) -> str:
        return admin_link("users", "accounts/user", payment.user_id)
