"""The saga's replies to orders, through the idempotent consumer: each handler in each order state."""

import uuid
from decimal import Decimal

import pytest
from celery import current_app
from service_kit.messaging.consumer import process_once
from service_kit.messaging.envelope import Message
from service_kit.models import OutboxMessage
from service_kit.testing import consume_now, dead_letter_errors

from orders.handlers import confirm_order, decline_order, reject_order, reserve_order
from orders.models import CancelReason, Order, OrderStatus

from .factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

STATES = {
    "pending": {},
    "reserved": {"reserved": True},
    "confirmed": {"confirmed": True},
    "cancelled": {"cancelled": True},
}


def deliver(task, payload: dict, **fields) -> bool:
    message = Message(type=task.name, payload=payload, producer="test", correlation_id="req-1", **fields)
    return process_once(task.handler, message)


def order_in(state: str, **fields) -> Order:
    order = OrderFactory(**STATES[state], correlation_id="req-1", **fields)
    OrderLineFactory(order=order, sku="DEMO-MUG", quantity=2)
    OrderLineFactory(order=order, sku="DEMO-POSTER", quantity=1)
    return order


def reserved_payload(order: Order) -> dict:
    return {
        "order_id": str(order.id),
        "lines": [
            {"sku": "DEMO-MUG", "quantity": 2, "unit_price": "9.50"},
            {"sku": "DEMO-POSTER", "quantity": 1, "unit_price": "8.00"},
        ],
        "total": "27.00",
        "currency": "USD",
    }


def paid_payload(order_id) -> dict:
    return {"order_id": str(order_id), "payment_id": str(uuid.uuid4()), "amount": "27.00"}


def declined_payload(order_id) -> dict:
    return {"order_id": str(order_id), "payment_id": str(uuid.uuid4()), "decline_code": "card_declined"}


def rejected_payload(order_id) -> dict:
    return {"order_id": str(order_id), "reason": "out_of_stock", "skus": ["DEMO-MUG"]}


def test_handlers_are_celery_tasks_named_by_their_message_type():
    for task in (reserve_order, reject_order, confirm_order, decline_order):
        assert current_app.tasks[task.name].handler is task.handler
    assert {reserve_order.name, reject_order.name, confirm_order.name, decline_order.name} == {
        "orders.stock_reserved",
        "orders.stock_rejected",
        "orders.payment_succeeded",
        "orders.payment_declined",
    }


# orders.stock_reserved


def test_stock_reserved_prices_a_pending_order_reserves_it_and_asks_for_the_charge(outbox):
    order = order_in("pending", payment_method="pm_card_chargeDeclined")

    assert deliver(reserve_order, reserved_payload(order))

    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED
    assert order.total == Decimal("27.00")
    assert order.reserved_at is not None
    assert list(order.lines.values_list("sku", "unit_price")) == [
        ("DEMO-MUG", Decimal("9.50")),
        ("DEMO-POSTER", Decimal("8.00")),
    ]
    assert list(order.history.values_list("status", flat=True)) == ["reserved"]
    assert outbox() == [
        (
            "payments.charge",
            {
                "order_id": str(order.id),
                "user_id": str(order.user_id),
                "amount": "27.00",
                "currency": "USD",
                "payment_method": "pm_card_chargeDeclined",
            },
        )
    ]
    assert OutboxMessage.objects.get().envelope["correlation_id"] == "req-1"


def test_stock_reserved_for_an_order_cancelled_while_pending_releases_the_stock(outbox):
    order = order_in("pending")
    order.status, order.cancel_reason = OrderStatus.CANCELLED, CancelReason.CANCELLED_BY_CUSTOMER
    order.save()

    deliver(reserve_order, reserved_payload(order))

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.total is None
    assert outbox() == [("inventory.release", {"order_id": str(order.id)})]


@pytest.mark.parametrize("state", ["reserved", "confirmed"])
def test_stock_reserved_repeated_for_a_reserved_or_confirmed_order_changes_nothing(state, outbox):
    order = order_in(state)

    deliver(reserve_order, reserved_payload(order))

    order.refresh_from_db()
    assert order.status == state
    assert order.total == Decimal("19.99")
    assert outbox() == []


def test_second_delivery_of_stock_reserved_changes_nothing(outbox):
    order = order_in("pending")
    message = Message(type="orders.stock_reserved", payload=reserved_payload(order), producer="inventory")

    assert process_once(reserve_order.handler, message)
    assert not process_once(reserve_order.handler, message)

    assert len(outbox()) == 1
    assert order.history.count() == 1


def test_stock_reserved_that_does_not_price_the_orders_lines_is_ignored(outbox):
    order = order_in("pending")
    payload = reserved_payload(order)
    payload["lines"] = payload["lines"][:1]

    assert deliver(reserve_order, payload)

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert outbox() == []


# orders.stock_rejected


@pytest.mark.parametrize("reason", ["out_of_stock", "unknown_product"])
def test_stock_rejected_cancels_a_pending_order_with_the_reason(reason, outbox):
    order = order_in("pending")

    deliver(reject_order, {**rejected_payload(order.id), "reason": reason})

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == reason
    assert outbox() == []


@pytest.mark.parametrize("state", ["reserved", "confirmed", "cancelled"])
def test_stock_rejected_for_an_order_past_pending_changes_nothing(state, outbox):
    order = order_in(state)

    deliver(reject_order, {**rejected_payload(order.id), "reason": "unknown_product"})

    order.refresh_from_db()
    assert order.status == state
    assert order.cancel_reason in (None, CancelReason.OUT_OF_STOCK)
    assert order.history.count() == 0
    assert outbox() == []


# orders.payment_succeeded


def test_payment_succeeded_confirms_a_reserved_order_and_sells_its_stock(outbox):
    order = order_in("reserved")

    deliver(confirm_order, paid_payload(order.id))

    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert outbox() == [("inventory.commit", {"order_id": str(order.id)})]


@pytest.mark.parametrize("reason", [CancelReason.EXPIRED, CancelReason.CANCELLED_BY_CUSTOMER])
def test_payment_succeeded_for_a_cancelled_order_refunds_it(reason, outbox):
    order = order_in("cancelled", cancel_reason=reason)

    deliver(confirm_order, paid_payload(order.id))

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert outbox() == [("payments.refund", {"order_id": str(order.id)})]


@pytest.mark.parametrize("state", ["pending", "confirmed"])
def test_payment_succeeded_for_a_pending_or_confirmed_order_changes_nothing(state, outbox):
    order = order_in(state)

    deliver(confirm_order, paid_payload(order.id))

    order.refresh_from_db()
    assert order.status == state
    assert outbox() == []


# orders.payment_declined


def test_payment_declined_cancels_a_reserved_order_and_releases_its_stock(outbox):
    order = order_in("reserved")

    deliver(decline_order, declined_payload(order.id))

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == CancelReason.PAYMENT_DECLINED
    assert outbox() == [("inventory.release", {"order_id": str(order.id)})]


@pytest.mark.parametrize("state", ["pending", "confirmed", "cancelled"])
def test_payment_declined_for_an_order_not_reserved_changes_nothing(state, outbox):
    order = order_in(state)

    deliver(decline_order, declined_payload(order.id))

    order.refresh_from_db()
    assert order.status == state
    assert order.history.count() == 0
    assert outbox() == []


# Unknown orders and malformed payloads


@pytest.mark.parametrize(
    ("task", "payload"),
    [
        (reserve_order, reserved_payload(Order(id=uuid.uuid4()))),
        (reject_order, rejected_payload(uuid.uuid4())),
        (confirm_order, paid_payload(uuid.uuid4())),
        (decline_order, declined_payload(uuid.uuid4())),
    ],
    ids=["stock_reserved", "stock_rejected", "payment_succeeded", "payment_declined"],
)
def test_message_about_an_unknown_order_is_consumed_without_effect(task, payload, outbox):
    assert deliver(task, payload)

    assert outbox() == []
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("task", "payload"),
    [
        (reserve_order, {}),
        (reserve_order, {"order_id": "not-a-uuid", "lines": [], "total": "1.00", "currency": "USD"}),
        (reserve_order, {"order_id": str(uuid.uuid4()), "lines": "DEMO-MUG", "total": "1.00", "currency": "USD"}),
        (
            reserve_order,
            {
                "order_id": str(uuid.uuid4()),
                "lines": [{"sku": "DEMO-MUG", "quantity": 1, "unit_price": "1.00"}],
                "total": "-1.00",
                "currency": "USD",
            },
        ),
        (reject_order, {"order_id": str(uuid.uuid4()), "reason": "bored"}),
        (confirm_order, {"order_id": str(uuid.uuid4())}),
        (confirm_order, {"order_id": str(uuid.uuid4()), "payment_id": str(uuid.uuid4()), "amount": "lots"}),
        (decline_order, {"order_id": 12.5, "payment_id": str(uuid.uuid4())}),
    ],
)
def test_malformed_payload_is_dead_lettered_without_effect(task, payload, outbox):
    order = order_in("reserved")

    assert consume_now(task, payload, producer="inventory") == "dead_lettered"

    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED
    assert outbox() == []
    [error] = dead_letter_errors()
    assert "payload breaks the contract" in error


@pytest.mark.django_db(transaction=True)
def test_reply_is_committed_with_the_change_and_published_after_it():
    order = order_in("reserved")

    deliver(confirm_order, paid_payload(order.id))

    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    row = OutboxMessage.objects.get()
    assert row.type == "inventory.commit"
    assert row.attempts == 1
