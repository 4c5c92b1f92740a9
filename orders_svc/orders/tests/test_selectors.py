"""order_list: one query for the orders and one for all their lines (who sees which order: test_apis.py)."""

import pytest
from service_kit.testing import Identity

from orders.selectors import order_list

from .factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_order_list_prefetches_lines(django_assert_num_queries):
    customer = Identity()
    for _ in range(3):
        OrderFactory(user_id=customer.id).lines.create(sku="DEMO-MUG", quantity=1)

    with django_assert_num_queries(2):
        assert [len(order.lines.all()) for order in order_list(user=customer)] == [1, 1, 1]
