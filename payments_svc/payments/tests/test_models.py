"""Database guards of payments: the constraints hold even when code forgets them."""

from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from payments.models import Payment, PaymentStatus

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db


def test_second_payment_for_the_same_order_is_refused():
    first = PaymentFactory()

    with pytest.raises(IntegrityError):
        PaymentFactory(order_id=first.order_id)


def test_payments_of_different_orders_coexist():
    PaymentFactory.create_batch(2)

    assert Payment.objects.count() == 2


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-5.00")])
def test_amount_that_is_not_positive_is_refused(amount):
    with pytest.raises(IntegrityError):
        PaymentFactory(amount=amount)


def test_unknown_status_is_refused():
    with pytest.raises(IntegrityError):
        PaymentFactory(status="pending")


def test_refunded_payment_without_refund_time_is_refused():
    with pytest.raises(IntegrityError):
        PaymentFactory(status=PaymentStatus.REFUNDED, refunded_at=None)


def test_refund_time_on_a_payment_that_is_not_refunded_is_refused():
    with pytest.raises(IntegrityError):
        PaymentFactory(status=PaymentStatus.SUCCEEDED, refunded_at=timezone.now())


def test_refunded_payment_with_refund_time_is_stored():
    payment = PaymentFactory(refunded=True)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunded_at is not None


def test_payments_come_newest_first_by_default():
    older = PaymentFactory()
    newer = PaymentFactory()

    assert list(Payment.objects.all()) == [newer, older]
