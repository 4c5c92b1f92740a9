"""Operator pages: the catalogue is editable; reservations belong to the saga and are read-only."""

from django.contrib import admin
from service_kit.admin import ReadOnlyInline, ViewOnlyAdmin, admin_link

from .models import Product, Reservation, ReservationLine


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "on_hand", "reserved", "available"]
    search_fields = ["sku", "name"]
    readonly_fields = ["reserved", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # The SKU is what reservation lines point at, and stock moves only through restock and orders
        # (single UPDATEs), so a form never writes back a stale count.
        return [*self.readonly_fields, "sku", "on_hand"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=[*form.changed_data, "updated_at"])
        else:
            obj.save()


class ReservationLineInline(ReadOnlyInline):
    model = ReservationLine
    fields = ["product", "quantity", "unit_price"]
    readonly_fields = fields


@admin.register(Reservation)
class ReservationAdmin(ViewOnlyAdmin):
    list_display = ["order_id", "order", "status", "reject_reason", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["=order_id"]
    readonly_fields = ["order"]
    inlines = [ReservationLineInline]

    @admin.display(description="order in the orders admin")
    def order(self, reservation: Reservation) -> str:
        return admin_link("orders", "orders/order", reservation.order_id, "open")
