"""order_list and order_get: a customer reads only their own orders, staff reads all."""

import uuid

import pytest
from django.http import Http404
from service_kit.testing import Identity

from orders.selectors import order_get, order_list

from .factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return Identity()


def test_order_list_gives_a_customer_only_their_orders_newest_first(customer):
    older = OrderFactory(user_id=customer.id)
    newer = OrderFactory(user_id=customer.id)
    OrderFactory()

    assert list(order_list(user=customer)) == [newer, older]


def test_order_list_gives_staff_every_order():
    orders = OrderFactory.create_batch(3)

    assert set(order_list(user=Identity(is_staff=True))) == set(orders)


def test_order_list_prefetches_lines(customer, django_assert_num_queries):
    for _ in range(3):
        OrderFactory(user_id=customer.id).lines.create(sku="DEMO-MUG", quantity=1)

    with django_assert_num_queries(2):
        assert [len(order.lines.all()) for order in order_list(user=customer)] == [1, 1, 1]


def test_order_get_returns_the_callers_order(customer):
    order = OrderFactory(user_id=customer.id)

    assert order_get(order_id=order.id, user=customer) == order


def test_order_get_hides_another_users_order(customer):
    order = OrderFactory()

    with pytest.raises(Http404):
        order_get(order_id=order.id, user=customer)


def test_order_get_lets_staff_read_any_order():
    order = OrderFactory()

    assert order_get(order_id=order.id, user=Identity(is_staff=True)) == order


def test_order_get_of_an_unknown_id_is_not_found(customer):
    with pytest.raises(Http404):
        order_get(order_id=uuid.uuid4(), user=customer)
