"""Reads of products and reservations."""

import uuid

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from .models import Product, Reservation, ReservationLine


def product_list() -> QuerySet[Product]:
    """All products by SKU, annotated with `available_quantity` (on hand minus reserved) to filter and sort on."""
    return Product.objects.annotate(available_quantity=F("on_hand") - F("reserved")).order_by("sku")


def product_get(*, sku: str) -> Product | None:
    return product_list().filter(sku=sku).first()


def reservation_get(*, order_id: uuid.UUID | str) -> Reservation | None:
    return Reservation.objects.filter(order_id=order_id).prefetch_related("lines").first()


def reservations_by_order(*, order_ids: list[uuid.UUID]) -> QuerySet[Reservation]:
    """The reservations of the given orders with their lines, for reconciliation."""
    return Reservation.objects.filter(order_id__in=order_ids).prefetch_related("lines").order_by("order_id")


def stock_ledger(*, skus: list[str]) -> QuerySet[Product]:
    """Per product: on hand, reserved, and the units its held and committed reservation lines account for.

    One statement, so the counters and the lines are read from one snapshot.
    """

    def lines_total(status: str):
        lines = (
            ReservationLine.objects.filter(product=OuterRef("pk"), reservation__status=status)
            .order_by()
            .values("product")
            .annotate(total=Sum("quantity"))
            .values("total")
        )
        return Coalesce(Subquery(lines), 0)

    return (
        Product.objects.filter(sku__in=skus)
        .annotate(
            held_quantity=lines_total(Reservation.Status.HELD),
            committed_quantity=lines_total(Reservation.Status.COMMITTED),
        )
        .order_by("sku")
    )
