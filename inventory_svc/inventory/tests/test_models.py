"""Database constraints reject impossible rows even when code bypasses validation."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError

from inventory.models import Product, Reservation

from .factories import ProductFactory, ReservationFactory, ReservationLineFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "fields",
    [
        {"price": Decimal("0.00")},
        {"price": Decimal("-1.00")},
        {"on_hand": 3, "reserved": 4},
        {"sku": "lower-case"},
        {"sku": "-LEADING-DASH"},
        {"sku": "TRAILING-NEWLINE\n"},
        {"sku": "SPACE INSIDE"},
    ],
)
def test_product_constraints_reject_bad_rows(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(**fields)


def test_stock_counts_cannot_go_negative_in_the_database():
    product = ProductFactory(on_hand=1, reserved=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(on_hand=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(reserved=-1)


def test_available_is_on_hand_minus_reserved():
    assert ProductFactory(on_hand=7, reserved=3).available == 4


def test_reservation_line_quantity_must_be_positive():
    with pytest.raises(IntegrityError), transaction.atomic():
        ReservationLineFactory(quantity=0)


def test_reservation_has_one_line_per_product():
    line = ReservationLineFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReservationLineFactory(reservation=line.reservation, product=line.product)


def test_order_has_at_most_one_reservation():
    reservation = ReservationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReservationFactory(order_id=reservation.order_id)


@pytest.mark.parametrize(
    ("status", "reason"),
    [("held", "out_of_stock"), ("rejected", ""), ("rejected", "bored"), ("lost", "")],
)
def test_reject_reason_is_set_exactly_for_rejected_reservations(status, reason):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReservationFactory(status=status, reject_reason=reason)


def test_product_with_reservation_lines_cannot_be_deleted():
    line = ReservationLineFactory()
    with pytest.raises(ProtectedError):
        line.product.delete()
    assert Reservation.objects.filter(pk=line.reservation_id).exists()
