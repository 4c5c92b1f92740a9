"""Reads of payments, scoped to the caller: a customer sees their own, staff sees all."""

from uuid import UUID

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .models import Payment


def payment_list(*, user) -> QuerySet[Payment]:
    """The caller's payments (every payment for staff), newest first."""
    payments = Payment.objects.order_by("-created_at", "-id")
    if user.is_staff:
        return payments
    return payments.filter(user_id=user.id)


def payment_get(*, payment_id: UUID | str, user) -> Payment:
    """One payment the caller may see; Http404 for anyone else's, so its existence stays hidden."""
    return get_object_or_404(payment_list(user=user), id=payment_id)


def payments_by_order(*, order_ids: list[UUID]) -> QuerySet[Payment]:
    """Every payment of the given orders, for reconciliation (a service client, not a person)."""
    return Payment.objects.filter(order_id__in=order_ids).order_by("order_id", "created_at", "id")
