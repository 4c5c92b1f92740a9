"""Database guards of orders: the constraints hold even when code forgets them."""

from decimal import Decimal

import pytest
from django.db import IntegrityError

from orders.models import Order, OrderStatus

from .factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


def test_new_order_is_pending_in_usd_without_total():
    order = OrderFactory()

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.currency == "USD"
    assert order.total is None
    assert order.cancel_reason is None


def test_orders_come_newest_first_by_default():
    older = OrderFactory()
    newer = OrderFactory()

    assert list(Order.objects.all()) == [newer, older]


def test_same_idempotency_key_twice_for_one_user_is_refused():
    first = OrderFactory(idempotency_key="key-1")

    with pytest.raises(IntegrityError):
        OrderFactory(user_id=first.user_id, idempotency_key="key-1")


def test_same_idempotency_key_for_two_users_is_allowed():
    OrderFactory(idempotency_key="key-1")
    OrderFactory(idempotency_key="key-1")

    assert Order.objects.filter(idempotency_key="key-1").count() == 2


def test_orders_without_idempotency_key_do_not_collide():
    first = OrderFactory(idempotency_key=None)
    OrderFactory(user_id=first.user_id, idempotency_key=None)

    assert Order.objects.filter(user_id=first.user_id).count() == 2


def test_cancel_reason_on_an_order_that_is_not_cancelled_is_refused():
    with pytest.raises(IntegrityError):
        OrderFactory(status=OrderStatus.PENDING, cancel_reason="out_of_stock")


def test_cancelled_order_without_reason_is_refused():
    with pytest.raises(IntegrityError):
        OrderFactory(status=OrderStatus.CANCELLED, cancel_reason=None)


def test_unknown_cancel_reason_is_refused():
    with pytest.raises(IntegrityError):
        OrderFactory(status=OrderStatus.CANCELLED, cancel_reason="bored")


def test_unknown_status_is_refused():
    with pytest.raises(IntegrityError):
        OrderFactory(status="shipped")


def test_negative_total_is_refused():
    with pytest.raises(IntegrityError):
        OrderFactory(reserved=True, total=Decimal("-0.01"))


def test_reserved_order_without_total_is_refused():
    with pytest.raises(IntegrityError):
        OrderFactory(status=OrderStatus.RESERVED, total=None)


def test_zero_total_is_allowed():
    order = OrderFactory(reserved=True, total=Decimal("0.00"))

    order.refresh_from_db()
    assert order.total == Decimal("0.00")


@pytest.mark.parametrize("quantity", [0, 1001])
def test_line_quantity_outside_1_to_1000_is_refused(quantity):
    with pytest.raises(IntegrityError):
        OrderLineFactory(quantity=quantity)


@pytest.mark.parametrize("quantity", [1, 1000])
def test_line_quantity_at_the_bounds_is_allowed(quantity):
    line = OrderLineFactory(quantity=quantity)

    line.refresh_from_db()
    assert line.quantity == quantity


def test_same_sku_twice_in_one_order_is_refused():
    line = OrderLineFactory(sku="DEMO-MUG")

    with pytest.raises(IntegrityError):
        OrderLineFactory(order=line.order, sku="DEMO-MUG")


def test_negative_unit_price_is_refused():
    with pytest.raises(IntegrityError):
        OrderLineFactory(unit_price=Decimal("-1.00"))
