"""Products and their stock, and the reservations the order saga holds against it."""

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

CURRENCY = "USD"
# \A and \Z anchor the whole string in Python and PostgreSQL alike; Python's $ accepts a trailing newline.
SKU_PATTERN = r"\A[A-Z0-9][A-Z0-9-]{0,63}\Z"
sku_validator = RegexValidator(
    SKU_PATTERN, "Use 1 to 64 uppercase letters, digits and dashes, not starting with a dash."
)


class Product(models.Model):
    sku = models.CharField("SKU", primary_key=True, max_length=64, validators=[sku_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, default=CURRENCY)
    # Units in the warehouse, sold ones excluded; `reserved` of them are held for orders not yet paid.
    on_hand = models.PositiveIntegerField(default=0)
    reserved = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(sku__regex=SKU_PATTERN), name="product_sku_format"),
            models.CheckConstraint(condition=Q(price__gte=Decimal("0.01")), name="product_price_positive"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="product_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="product_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="product_reserved_within_on_hand"),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class ReservationStatus(models.TextChoices):
    HELD = "held"
    COMMITTED = "committed"
    RELEASED = "released"
    REJECTED = "rejected"
    # Sold, then given back to stock when the paid order was cancelled.
    RETURNED = "returned"


class RejectReason(models.TextChoices):
    OUT_OF_STOCK = "out_of_stock"
    UNKNOWN_PRODUCT = "unknown_product"


class Reservation(models.Model):
    """The stock held for one order: every line of it, or (rejected) none."""

    Status = ReservationStatus
    RejectReason = RejectReason

    order_id = models.UUIDField(unique=True)
    status = models.CharField(max_length=16, choices=Status)
    # Kept so that a redelivered reserve request gets the same answer as the first one.
    reject_reason = models.CharField(max_length=32, choices=RejectReason, blank=True, default="")
    # The SKUs that caused a rejection, for the same reason.
    rejected_skus = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ReservationStatus.values), name="reservation_status_valid"),
            models.CheckConstraint(
                condition=(Q(status="rejected") & Q(reject_reason__in=RejectReason.values))
                | (~Q(status="rejected") & Q(reject_reason="")),
                name="reservation_reason_iff_rejected",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="reservation_status_created")]

    def __str__(self):
        return f"{self.order_id} ({self.status})"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservation_lines")
    quantity = models.PositiveIntegerField()
    # The price when the stock was reserved: what the order is charged.
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["product_id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_line_quantity_positive"),
            models.UniqueConstraint(fields=["reservation", "product"], name="reservation_line_unique_product"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product_id}"
