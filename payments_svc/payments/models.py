"""Payments: at most one charge per order, refunded in place."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class PaymentStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    DECLINED = "declined", "Declined"
    REFUNDED = "refunded", "Refunded"


class Payment(models.Model):
    Status = PaymentStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Orders and users live in other services, so plain UUIDs rather than foreign keys.
    order_id = models.UUIDField()
    user_id = models.UUIDField(db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    payment_method = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices)
    gateway_reference = models.CharField(max_length=255, blank=True)
    decline_code = models.CharField(max_length=64, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user_id", "-created_at"], name="payments_payment_user_newest")]
        constraints = [
            # The last guard against charging an order twice, whatever races above it.
            models.UniqueConstraint(fields=["order_id"], name="payments_payment_one_per_order"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_payment_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=PaymentStatus.values), name="payments_payment_status_valid"),
            models.CheckConstraint(
                condition=Q(status=PaymentStatus.REFUNDED, refunded_at__isnull=False)
                | (~Q(status=PaymentStatus.REFUNDED) & Q(refunded_at__isnull=True)),
                name="payments_payment_refunded_at_iff_refunded",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.id} ({self.status})"
