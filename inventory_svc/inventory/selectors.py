"""Reads of products and reservations."""

import uuid

from django.db.models import F, QuerySet

from .models import Product, Reservation


def product_list() -> QuerySet[Product]:
    """All products by SKU, annotated with `available_quantity` (on hand minus reserved) to filter and sort on."""
    return Product.objects.annotate(available_quantity=F("on_hand") - F("reserved")).order_by("sku")


def product_get(*, sku: str) -> Product | None:
    return product_list().filter(sku=sku).first()


def reservation_get(*, order_id: uuid.UUID | str) -> Reservation | None:
    return Reservation.objects.filter(order_id=order_id).prefetch_related("lines").first()
