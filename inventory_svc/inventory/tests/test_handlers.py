"""The saga message handlers, run as the consumer runs them: once per message id, in one transaction."""

import logging
import uuid
from decimal import Decimal

import pytest
from service_kit.messaging.consumer import process_once
from service_kit.messaging.envelope import Message
from service_kit.models import OutboxMessage
from service_kit.testing import consume_now, dead_letter_errors

from inventory import handlers, services
from inventory.models import Product, Reservation

from .factories import ProductFactory


def stock_of(sku: str) -> tuple[int, int]:
    product = Product.objects.get(sku=sku)
    return product.on_hand, product.reserved


def message_for(task, payload: dict) -> Message:
    return Message(type=task.name, payload=payload, producer="orders", correlation_id=uuid.uuid4().hex)


def deliver(task, payload: dict) -> Message:
    message = message_for(task, payload)
    assert process_once(task.handler, message)
    return message


def reserve_payload(order_id: uuid.UUID, *lines: tuple[str, int]) -> dict:
    return {"order_id": str(order_id), "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]}


@pytest.fixture
def held_order():
    ProductFactory(sku="A", price=Decimal("2.50"), on_hand=5)
    ProductFactory(sku="B", price=Decimal("10.00"), on_hand=3)
    order_id = uuid.uuid4()
    services.stock_reserve(order_id=order_id, lines=[("A", 2), ("B", 1)])
    return order_id


def test_handlers_are_tasks_named_after_their_messages():
    assert (
        handlers.reserve_stock.name,
        handlers.commit_stock.name,
        handlers.release_stock.name,
        handlers.restock_order.name,
    ) == (
        "inventory.reserve",
        "inventory.commit",
        "inventory.release",
        "inventory.restock",
    )


# RESERVE


@pytest.mark.django_db
def test_reserve_holds_stock_and_replies_with_prices_and_total():
    ProductFactory(sku="A", price=Decimal("2.50"), on_hand=5)
    ProductFactory(sku="B", price=Decimal("10.00"), on_hand=1)
    order_id = uuid.uuid4()

    message = deliver(handlers.reserve_stock, reserve_payload(order_id, ("B", 1), ("A", 3)))

    assert stock_of("A") == (5, 3)
    assert stock_of("B") == (1, 1)
    reply = OutboxMessage.objects.get()
    assert reply.type == "orders.stock_reserved"
    assert reply.envelope["payload"] == {
        "order_id": str(order_id),
        "lines": [
            {"sku": "A", "quantity": 3, "unit_price": "2.50"},
            {"sku": "B", "quantity": 1, "unit_price": "10.00"},
        ],
        "total": "17.50",
        "currency": "USD",
    }
    assert reply.envelope["correlation_id"] == message.correlation_id
    assert (reply.envelope["producer"], reply.sent_at) == ("inventory", None)


@pytest.mark.django_db
def test_reserve_out_of_stock_holds_nothing_and_replies_rejected_with_the_skus():
    ProductFactory(sku="A", on_hand=5)
    ProductFactory(sku="B", on_hand=2, reserved=1)
    order_id = uuid.uuid4()

    message = deliver(handlers.reserve_stock, reserve_payload(order_id, ("A", 1), ("B", 2)))

    assert stock_of("A") == (5, 0)
    assert stock_of("B") == (2, 1)
    reply = OutboxMessage.objects.get()
    assert reply.type == "orders.stock_rejected"
    assert reply.envelope["payload"] == {"order_id": str(order_id), "reason": "out_of_stock", "skus": ["B"]}
    assert reply.envelope["correlation_id"] == message.correlation_id


@pytest.mark.django_db
def test_reserve_of_an_unknown_product_replies_rejected_unknown_product():
    ProductFactory(sku="A", on_hand=5)
    order_id = uuid.uuid4()

    deliver(handlers.reserve_stock, reserve_payload(order_id, ("A", 1), ("no-such-sku", 1)))

    assert stock_of("A") == (5, 0)
    reply = OutboxMessage.objects.get()
    assert reply.type == "orders.stock_rejected"
    assert reply.envelope["payload"] == {
        "order_id": str(order_id),
        "reason": "unknown_product",
        "skus": ["no-such-sku"],
    }


@pytest.mark.django_db
def test_same_reserve_message_delivered_twice_changes_nothing_the_second_time():
    ProductFactory(sku="A", on_hand=5)
    message = message_for(handlers.reserve_stock, reserve_payload(uuid.uuid4(), ("A", 2)))

    assert process_once(handlers.reserve_stock.handler, message) is True
    assert process_once(handlers.reserve_stock.handler, message) is False

    assert stock_of("A") == (5, 2)
    assert Reservation.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_new_reserve_message_for_a_handled_order_replies_the_same_again_and_holds_stock_once():
    ProductFactory(sku="A", price=Decimal("4.00"), on_hand=5)
    order_id = uuid.uuid4()
    deliver(handlers.reserve_stock, reserve_payload(order_id, ("A", 2)))
    Product.objects.filter(sku="A").update(price=Decimal("99.00"))

    second = deliver(handlers.reserve_stock, reserve_payload(order_id, ("A", 2)))

    assert stock_of("A") == (5, 2)
    first_reply, second_reply = OutboxMessage.objects.order_by("id")
    assert first_reply.type == second_reply.type == "orders.stock_reserved"
    assert second_reply.envelope["payload"] == first_reply.envelope["payload"]
    assert second_reply.envelope["payload"]["total"] == "8.00"
    assert second_reply.envelope["correlation_id"] == second.correlation_id


@pytest.mark.django_db
def test_new_reserve_message_for_a_rejected_order_is_rejected_again_after_a_restock():
    ProductFactory(sku="A", on_hand=0)
    order_id = uuid.uuid4()
    deliver(handlers.reserve_stock, reserve_payload(order_id, ("A", 1)))
    services.product_stock_add(sku="A", quantity=10)

    deliver(handlers.reserve_stock, reserve_payload(order_id, ("A", 1)))

    assert stock_of("A") == (10, 0)
    replies = [(row.type, row.envelope["payload"]["skus"]) for row in OutboxMessage.objects.order_by("id")]
    assert replies == [("orders.stock_rejected", ["A"])] * 2


# COMMIT, RELEASE, RESTOCK


@pytest.mark.django_db
def test_commit_sells_the_held_stock_and_replies_nothing(held_order):
    deliver(handlers.commit_stock, {"order_id": str(held_order)})

    assert Reservation.objects.get(order_id=held_order).status == "committed"
    assert stock_of("A") == (3, 0)
    assert stock_of("B") == (2, 0)
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_release_gives_the_held_stock_back_and_replies_nothing(held_order):
    deliver(handlers.release_stock, {"order_id": str(held_order)})

    assert Reservation.objects.get(order_id=held_order).status == "released"
    assert stock_of("A") == (5, 0)
    assert stock_of("B") == (3, 0)
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_restock_after_commit_returns_the_sold_units_once(held_order):
    deliver(handlers.commit_stock, {"order_id": str(held_order)})

    deliver(handlers.restock_order, {"order_id": str(held_order)})
    deliver(handlers.restock_order, {"order_id": str(held_order)})

    assert Reservation.objects.get(order_id=held_order).status == "returned"
    assert stock_of("A") == (5, 0)
    assert stock_of("B") == (3, 0)
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_release_after_commit_leaves_the_sale_alone(held_order):
    deliver(handlers.commit_stock, {"order_id": str(held_order)})
    deliver(handlers.release_stock, {"order_id": str(held_order)})

    assert Reservation.objects.get(order_id=held_order).status == "committed"
    assert stock_of("A") == (3, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("task", [handlers.commit_stock, handlers.release_stock, handlers.restock_order])
def test_settling_an_unknown_order_logs_and_writes_nothing(task, caplog):
    ProductFactory(sku="A", on_hand=4, reserved=1)

    with caplog.at_level(logging.WARNING, logger="inventory.handlers"):
        deliver(task, {"order_id": str(uuid.uuid4())})

    assert stock_of("A") == (4, 1)
    assert not Reservation.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert "no reservation for order" in caplog.messages


# MALFORMED PAYLOADS: logged and dropped, since a retry would not mend them.


def valid_line() -> dict:
    return {"sku": "A", "quantity": 1}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [
        {"lines": [valid_line()]},
        {"order_id": "not-a-uuid", "lines": [valid_line()]},
        {"order_id": None, "lines": [valid_line()]},
        {"order_id": str(uuid.uuid4())},
        {"order_id": str(uuid.uuid4()), "lines": "A"},
        {"order_id": str(uuid.uuid4()), "lines": {"sku": "A", "quantity": 1}},
        {"order_id": str(uuid.uuid4()), "lines": []},
        {"order_id": str(uuid.uuid4()), "lines": [valid_line()] * 51},
        {"order_id": str(uuid.uuid4()), "lines": ["A"]},
        {"order_id": str(uuid.uuid4()), "lines": [{"quantity": 1}]},
        {"order_id": str(uuid.uuid4()), "lines": [{"sku": "", "quantity": 1}]},
        {"order_id": str(uuid.uuid4()), "lines": [{"sku": None, "quantity": 1}]},
        {"order_id": str(uuid.uuid4()), "lines": [{"sku": "A"}]},
        {"order_id": str(uuid.uuid4()), "lines": [{"sku": "A", "quantity": "abc"}]},
        {"order_id": str(uuid.uuid4()), "lines": [{"sku": "A", "quantity": "1"}]},
        {"order_id": str(uuid.uuid4()), "lines": [{"sku": "A", "quantity": 1.0}]},
        {"order_id": str(uuid.uuid4()), "lines": [{"sku": "A", "quantity": True}]},
        {"order_id": str(uuid.uuid4()), "lines": [{"sku": "A", "quantity": 0}]},
        {"order_id": str(uuid.uuid4()), "lines": [{"sku": "A", "quantity": -1}]},
        {"order_id": str(uuid.uuid4()), "lines": [{"sku": "A", "quantity": 1001}]},
    ],
)
def test_malformed_reserve_payload_is_dead_lettered_and_writes_nothing(payload):
    ProductFactory(sku="A", on_hand=5)

    assert consume_now(handlers.reserve_stock, payload, producer="orders") == "dead_lettered"

    assert stock_of("A") == (5, 0)
    assert not Reservation.objects.exists()
    [error] = dead_letter_errors()
    # The contract refuses it, or (a float that is a whole number) the handler's stricter reading does.
    assert "payload breaks the contract" in error or "refused by its handler" in error, error
    # Nothing but its receipt: the message did arrive, and waits in the dead letters for an operator.
    assert list(OutboxMessage.objects.values_list("type", flat=True)) == ["orders.receipt"]


@pytest.mark.django_db
def test_reserve_takes_up_to_fifty_lines_of_up_to_a_thousand_units():
    skus = [f"SKU-{index:02d}" for index in range(50)]
    for sku in skus:
        ProductFactory(sku=sku, price=Decimal("1.00"), on_hand=1000)

    deliver(handlers.reserve_stock, reserve_payload(uuid.uuid4(), *[(sku, 1000) for sku in skus]))

    assert stock_of("SKU-49") == (1000, 1000)
    assert OutboxMessage.objects.get().envelope["payload"]["total"] == "50000.00"


@pytest.mark.django_db
@pytest.mark.parametrize("task", [handlers.commit_stock, handlers.release_stock, handlers.restock_order])
@pytest.mark.parametrize("payload", [{}, {"order_id": "abc"}, {"order_id": None}, {"order_id": ["x"]}])
def test_malformed_settle_payload_is_dead_lettered_and_changes_nothing(task, payload, held_order, outbox):
    assert consume_now(task, payload, producer="orders") == "dead_lettered"

    assert Reservation.objects.get(order_id=held_order).status == "held"
    assert stock_of("A") == (5, 2)
    assert outbox() == []
    assert "payload breaks the contract" in dead_letter_errors()[0]


@pytest.mark.django_db
def test_reserve_task_consumes_an_envelope_once_per_message_id():
    ProductFactory(sku="A", on_hand=5)
    message = message_for(handlers.reserve_stock, reserve_payload(uuid.uuid4(), ("A", 2)))

    first = handlers.reserve_stock.apply(args=[message.as_dict()]).get()
    second = handlers.reserve_stock.apply(args=[message.as_dict()]).get()

    assert (first, second) == ("processed", "duplicate")
    assert stock_of("A") == (5, 2)
    assert OutboxMessage.objects.get(type="orders.stock_reserved").envelope["correlation_id"] == message.correlation_id
