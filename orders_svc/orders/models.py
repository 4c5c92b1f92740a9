"""Orders, their lines and the status history the order saga leaves behind."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RESERVED = "reserved", "Reserved"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"


class CancelReason(models.TextChoices):
    OUT_OF_STOCK = "out_of_stock", "Out of stock"
    UNKNOWN_PRODUCT = "unknown_product", "Unknown product"
    PAYMENT_DECLINED = "payment_declined", "Payment declined"
    CANCELLED_BY_CUSTOMER = "cancelled_by_customer", "Cancelled by customer"
    EXPIRED = "expired", "Expired"
    SAGA_TIMEOUT = "saga_timeout", "Saga timed out"


class Order(models.Model):
    Status = OrderStatus
    CancelReason = CancelReason

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The token's user_id; users live in users_svc, so no foreign key.
    user_id = models.UUIDField(db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # NULL, not "", is "no reason": the API shows it as null and a CHECK ties it to the status.
    cancel_reason = models.CharField(  # noqa: DJ001
        max_length=32, choices=CancelReason.choices, null=True, blank=True
    )
    payment_method = models.CharField(max_length=64)
    # Priced by inventory at reservation, so unknown while pending.
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    # NULL when the client sent no key, so the partial unique constraint skips it.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # SHA-256 of the canonical request, to tell a replay from a reused key with another body.
    request_fingerprint = models.CharField(max_length=64, blank=True)
    correlation_id = models.CharField(max_length=128, blank=True)
    # When the order became reserved: payment must arrive within ORDER_PAYMENT_TIMEOUT of it.
    reserved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user_id", "-created_at"], name="orders_order_user_newest"),
            # The expiry sweep reads only reserved orders, oldest first.
            models.Index(
                fields=["reserved_at"], condition=Q(status=OrderStatus.RESERVED), name="orders_order_reserved_since"
            ),
            # The saga's driver reads the orders still in flight by how long they have waited.
            models.Index(
                fields=["updated_at"],
                condition=Q(status__in=[OrderStatus.PENDING, OrderStatus.RESERVED]),
                name="orders_order_in_flight",
            ),
            # Reconciliation reads the orders changed in a window of time.
            models.Index(fields=["updated_at"], name="orders_order_updated_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="orders_order_idempotency_key_unique_per_user",
            ),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="orders_order_status_valid"),
            models.CheckConstraint(
                condition=Q(
                    status=OrderStatus.CANCELLED, cancel_reason__isnull=False, cancel_reason__in=CancelReason.values
                )
                | (~Q(status=OrderStatus.CANCELLED) & Q(cancel_reason__isnull=True)),
                name="orders_order_cancel_reason_iff_cancelled",
            ),
            models.CheckConstraint(
                condition=Q(total__isnull=True) | Q(total__gte=0), name="orders_order_total_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[OrderStatus.RESERVED, OrderStatus.CONFIRMED]) | Q(total__isnull=False),
                name="orders_order_total_set_once_reserved",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.id} ({self.status})"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    # Priced by inventory at reservation.
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="orders_orderline_sku_unique_per_order"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=1000), name="orders_orderline_quantity_1_to_1000"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__isnull=True) | Q(unit_price__gte=0),
                name="orders_orderline_unit_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderStatusChange(models.Model):
    """One row per status an order entered, written with the change itself."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=16, choices=OrderStatus.choices)
    reason = models.CharField(max_length=32, choices=CancelReason.choices, null=True, blank=True)  # noqa: DJ001
    occurred_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.status} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class ReconciliationRun(models.Model):
    """One comparison of orders with payments and inventory (`manage.py reconcile` or the relay's schedule)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        COMMAND = "command", "Command"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    # The orders last changed in [window_start, window_end) were compared.
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    orders_checked = models.PositiveIntegerField(default=0)
    skus_checked = models.PositiveIntegerField(default=0)
    findings_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Reconciliation {self.pk} ({self.status}, {self.findings_count} findings)"


class FindingKind(models.TextChoices):
    ORDER_STUCK = "order_stuck", "Order stuck in flight"
    PAYMENT_MISSING = "payment_missing", "Confirmed order without a payment"
    PAYMENT_DUPLICATED = "payment_duplicated", "More than one payment for an order"
    PAYMENT_NOT_SUCCEEDED = "payment_not_succeeded", "Confirmed order whose payment did not succeed"
    PAYMENT_AMOUNT_MISMATCH = "payment_amount_mismatch", "Payment amount or currency differs from the order total"
    CHARGE_NOT_REFUNDED = "charge_not_refunded", "Cancelled order with a net charge"
    RESERVATION_MISSING = "reservation_missing", "Confirmed order without a reservation"
    RESERVATION_NOT_COMMITTED = "reservation_not_committed", "Confirmed order whose stock is not committed"
    RESERVATION_LINES_MISMATCH = "reservation_lines_mismatch", "Reservation lines differ from the order lines"
    STOCK_STILL_HELD = "stock_still_held", "Cancelled order whose stock is not given back"
    STOCK_RESERVED_MISMATCH = "stock_reserved_mismatch", "Reserved units differ from the held reservation lines"
    STOCK_OVER_RESERVED = "stock_over_reserved", "More units reserved than on hand"


class ReconciliationFinding(models.Model):
    Kind = FindingKind

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="findings")
    # The order at fault, or none for a SKU's ledger.
    order_id = models.UUIDField(null=True, blank=True, db_index=True)
    sku = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=32, choices=FindingKind.choices)
    detail = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.order_id or self.sku}"
