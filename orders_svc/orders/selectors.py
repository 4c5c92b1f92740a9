"""Reads of orders, scoped to the caller: a customer sees their own, staff sees all."""

from uuid import UUID

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .models import Order


def order_list(*, user) -> QuerySet[Order]:
    """The caller's orders (every order for staff), newest first, lines prefetched."""
    orders = Order.objects.prefetch_related("lines").order_by("-created_at", "-id")
    if user.is_staff:
        return orders
    return orders.filter(user_id=user.id)


def order_get(*, order_id: UUID | str, user) -> Order:
    """One order the caller may see; Http404 for anyone else's, so its existence stays hidden."""
    return get_object_or_404(order_list(user=user), id=order_id)
