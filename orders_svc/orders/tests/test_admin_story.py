"""An order's admin page tells its saga and links into the other services' admins; the admin cancels
and drives on orders through the same service functions as the API and the relay."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from opentelemetry import propagate
from opentelemetry.sdk.trace import TracerProvider
from service_kit.models import OutboxMessage, ProcessedMessage
from service_kit.testing import consume_now

from orders.handlers import reserve_order
from orders.models import CancelReason, Order, OrderStatus, OrderStatusChange
from orders.services import order_mark_reserved, order_place, saga_message_id

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:orders_order_changelist"


def placed() -> Order:
    order, _ = order_place(
        user_id=uuid.uuid4(), lines=[{"sku": "DEMO-MUG", "quantity": 1}], payment_method="pm_card_visa"
    )
    return order


def reserved() -> Order:
    order = placed()
    order_mark_reserved(
        order_id=order.id,
        lines=[{"sku": "DEMO-MUG", "unit_price": Decimal("12.50")}],
        total=Decimal("12.50"),
        currency="USD",
    )
    order.refresh_from_db()
    return order


def test_order_page_tells_statuses_and_messages_to_the_second_with_links_elsewhere(admin_client):
    order = reserved()
    content = admin_client.get(reverse("admin:orders_order_change", args=[order.id])).content.decode()

    reserve_id = saga_message_id(order_id=order.id, type="inventory.reserve")
    charge_id = saga_message_id(order_id=order.id, type="payments.charge")
    assert f'sent inventory.reserve <a href="/flower/task/{reserve_id}">{reserve_id}</a></td><td>orders' in content
    assert f'sent payments.charge <a href="/flower/task/{charge_id}">{charge_id}</a></td><td>orders' in content
    assert "Pending" in content and "Reserved" in content
    story = content[content.index("time order") :]
    pending_at = f"{order.history.first().occurred_at:%Y-%m-%d %H:%M:%S}"
    assert re.search(rf"<td>{pending_at}\.\d{{3}} UTC</td><td>Pending</td>", story), story[:1500]
    assert f'href="/admin/users/accounts/user/{order.user_id}/change/"' in content
    assert f'href="/admin/payments/payments/payment/?q={order.id}"' in content
    assert f'href="/admin/inventory/inventory/reservation/?q={order.id}"' in content
    # Without the other services' addresses (these tests run alone) the page says so, and still opens.
    assert "payments and inventory not asked: Not configured" in content


def test_order_page_tells_each_message_received_with_its_sender_and_times(admin_client):
    order = placed()
    now = timezone.now()
    OrderStatusChange.objects.filter(order=order).update(occurred_at=now - timedelta(seconds=3))
    reserve_id = saga_message_id(order_id=order.id, type="inventory.reserve")
    OutboxMessage.objects.filter(message_id=reserve_id).update(created_at=now - timedelta(seconds=2))
    received_id = str(uuid.uuid4())
    payload = {
        "order_id": str(order.id),
        "lines": [{"sku": "DEMO-MUG", "quantity": 1, "unit_price": "12.50"}],
        "total": "12.50",
        "currency": "USD",
    }
    outcome = consume_now(
        reserve_order, payload, producer="inventory", id=received_id, occurred_at="2026-12-07T10:00:00.123456+00:00"
    )
    assert outcome == "processed"

    content = admin_client.get(reverse("admin:orders_order_change", args=[order.id])).content.decode()

    story = content[content.index("time order") :]
    processed_at = ProcessedMessage.objects.get(message_id=received_id).processed_at
    assert (
        f'received orders.stock_reserved <a href="/flower/task/{received_id}">{received_id}</a></td>'
        f"<td>inventory</td><td>sent 2026-12-07 10:00:00.123 UTC</td>"
    ) in story, story[:3000]
    assert f"<td>{processed_at:%Y-%m-%d %H:%M:%S}." in story
    # In time order: the order placed, its request sent, the answer received, and its next step sent.
    assert (
        story.index("Pending") < story.index("sent inventory.reserve") < story.index("received orders.stock_reserved")
    )
    assert story.index("received orders.stock_reserved") < story.index("sent payments.charge")


def test_cancel_action_cancels_and_compensates_like_the_api(admin_client):
    order = reserved()

    response = admin_client.post(reverse(CHANGELIST), {"action": "cancel", "_selected_action": [order.pk]})

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, CancelReason.CANCELLED_BY_CUSTOMER)
    release = OutboxMessage.objects.filter(type="inventory.release", envelope__payload__order_id=str(order.id))
    assert release.count() == 1


def test_ask_again_action_sends_the_waiting_request_again_with_its_same_id(admin_client, kit_broker):
    waiting, done = placed(), reserved()
    Order.objects.filter(pk=done.pk).update(status=OrderStatus.CONFIRMED)
    OutboxMessage.objects.update(sent_at="2026-01-01T00:00:00Z")

    response = admin_client.post(
        reverse(CHANGELIST), {"action": "ask_again", "_selected_action": [waiting.pk, done.pk]}, follow=True
    )

    assert response.status_code == 200
    reserve_id = saga_message_id(order_id=waiting.id, type="inventory.reserve")
    assert [task["id"] for task in kit_broker.messages("inventory")] == [reserve_id]
    assert kit_broker.messages("payments") == []
    assert "1 saga request(s) sent again for 1 waiting order(s)." in response.content.decode()


def test_order_page_links_its_trace_where_a_trace_viewer_is_configured(admin_client, monkeypatch):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    tracer = TracerProvider().get_tracer("test")
    parent = propagate.extract({"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})

    # Placed inside a request's trace, as the POST does.
    with tracer.start_as_current_span("POST api/orders/", context=parent):
        order = placed()
    url = reverse("admin:orders_order_change", args=[order.id])

    assert trace_id in admin_client.get(url).content.decode()
    monkeypatch.setenv("TRACE_UI_URL", "http://127.0.0.1:16686/trace/{trace_id}")
    assert f'href="http://127.0.0.1:16686/trace/{trace_id}"' in admin_client.get(url).content.decode()
