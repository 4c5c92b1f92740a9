"""Operator pages of orders: the list and an order with its lines and status history."""

import pytest
from django.urls import reverse

from orders.models import CancelReason, OrderStatus
from orders.services import order_place, order_transition

from .factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_order_list_page_lists_orders_and_finds_one_by_id(admin_client):
    order = OrderFactory()
    OrderFactory()

    response = admin_client.get(reverse("admin:orders_order_changelist"), {"q": str(order.id)})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_order_list_page_filters_by_status_and_reason(admin_client):
    OrderFactory(cancelled=True)
    OrderFactory()

    response = admin_client.get(
        reverse("admin:orders_order_changelist"), {"status": "cancelled", "cancel_reason": "out_of_stock"}
    )

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_order_page_shows_lines_and_status_history(admin_client):
    order, _ = order_place(
        user_id=OrderFactory().user_id, lines=[{"sku": "DEMO-MUG", "quantity": 2}], payment_method="pm_card_visa"
    )
    order_transition(order=order, to_status=OrderStatus.CANCELLED, reason=CancelReason.EXPIRED)

    response = admin_client.get(reverse("admin:orders_order_change", args=[order.id]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "DEMO-MUG" in content
    assert "Status history" in content
    assert "Expired" in content


def test_order_page_shows_cancel_reason_and_correlation_id(admin_client):
    order = OrderFactory(cancelled=True, cancel_reason=CancelReason.PAYMENT_DECLINED, correlation_id="req-trace-1")

    content = admin_client.get(reverse("admin:orders_order_change", args=[order.id])).content.decode()

    assert "Payment declined" in content
    assert "req-trace-1" in content


def test_order_list_page_finds_orders_by_correlation_id(admin_client):
    OrderFactory(correlation_id="req-trace-1")
    OrderFactory(correlation_id="req-trace-2")

    response = admin_client.get(reverse("admin:orders_order_changelist"), {"q": "req-trace-1"})

    assert response.context["cl"].result_count == 1
