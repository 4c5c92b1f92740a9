"""No stranded saga: an order whose message is lost on the way, or whose answer is, or whose request is
dead-lettered, is driven forward by orders_svc on its own and ends terminal with every invariant intact.

Each test takes a message out of Redis (or spoils it) while the worker that would take it is stopped,
and marks the message as received where a receipt would otherwise have it sent again, so what brings
the order through is the saga's own driver (`orders_drive_stale`): after ORDER_RETRY_AFTER seconds
(10 on the test stack, scripts/test.sh) it sends the order's request again, with the same message id;
not one its receiver dead-lettered, which ends with the saga's time-out (ORDER_SAGA_TIMEOUT: 90 s on
the test stack) cancelling the order (`saga_timeout`).
"""

import base64
import json
import os

import pytest
import redis

from .helpers import ensure_running, stack_ctl, wait_until
from .invariants import check_invariants, fetch, wait_terminal

pytestmark = pytest.mark.faults

RETRY_AFTER = int(os.environ.get("ORDER_RETRY_AFTER", "10"))
SAGA_TIMEOUT = int(os.environ.get("ORDER_SAGA_TIMEOUT", "90"))
WITHIN = RETRY_AFTER * 3 + 30


def broker() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)


def queued(client: redis.Redis, queue: str, message_id: str) -> tuple[int, dict] | None:
    """The position and decoded Celery message of a message waiting in a queue, or None."""
    for index, raw in enumerate(client.lrange(queue, 0, -1)):
        body = json.loads(raw)
        if body["headers"]["id"] == message_id:
            return index, body
    return None


def take_out(client: redis.Redis, queue: str, message_id: str) -> None:
    """Wait for the message in its queue, then take it out: lost on the way."""
    wait_until(lambda: queued(client, queue, message_id), timeout=30, message=f"{message_id} in {queue}")
    index, _body = queued(client, queue, message_id)
    client.lrem(queue, 1, client.lindex(queue, index))
    assert queued(client, queue, message_id) is None


def mark_received(service: str, message_id: str) -> None:
    """As if its receipt had come: the producer's relay will not send it again."""
    rows = fetch(
        service,
        "UPDATE service_kit_outboxmessage SET acknowledged_at = now() WHERE message_id = %s RETURNING id",
        (message_id,),
    )
    assert rows, f"no outbox row {message_id} in {service}"


def outbox_row(service: str, message_type: str, order_id: str) -> dict:
    return fetch(
        service,
        "SELECT message_id::text AS message_id, attempts FROM service_kit_outboxmessage "
        "WHERE type = %s AND envelope->'payload'->>'order_id' = %s",
        (message_type, order_id),
    )[0]


def place(buyer, sku: str) -> str:
    response = buyer.post(
        "/api/orders/", json={"lines": [{"sku": sku, "quantity": 1}], "payment_method": "pm_card_visa"}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_reserve_message_lost_on_the_way_is_asked_again_and_the_order_completes(buyer, make_product):
    sku = make_product(stock=3)["sku"]
    client = broker()
    try:
        stack_ctl("stop", "app:inventory-worker")
        order_id = place(buyer, sku)
        reserve = outbox_row("orders", "inventory.reserve", order_id)
        take_out(client, "inventory", reserve["message_id"])
        mark_received("orders", reserve["message_id"])
    finally:
        ensure_running("app:inventory-worker")

    [order] = wait_terminal([order_id], timeout=WITHIN).values()

    assert order["status"] == "confirmed"
    assert outbox_row("orders", "inventory.reserve", order_id)["attempts"] >= 2  # asked again, same message
    check_invariants([order_id], stock_in={sku: 3})


def test_an_answer_lost_on_the_way_is_asked_for_again_and_the_order_completes(buyer, make_product):
    sku = make_product(stock=3)["sku"]
    client = broker()
    try:
        stack_ctl("stop", "app:orders-worker")
        order_id = place(buyer, sku)
        wait_until(
            lambda: fetch("inventory", "SELECT 1 FROM service_kit_outboxmessage WHERE type = 'orders.stock_reserved' "
                          "AND envelope->'payload'->>'order_id' = %s", (order_id,)),
            timeout=30,
            message="inventory answered",
        )  # fmt: skip
        answer = outbox_row("inventory", "orders.stock_reserved", order_id)
        take_out(client, "orders", answer["message_id"])
        mark_received("inventory", answer["message_id"])
    finally:
        ensure_running("app:orders-worker")

    [order] = wait_terminal([order_id], timeout=WITHIN).values()

    assert order["status"] == "confirmed"
    # inventory got the same request again and answered with its first answer, sent again.
    assert outbox_row("inventory", "orders.stock_reserved", order_id)["attempts"] >= 2
    check_invariants([order_id], stock_in={sku: 3})


def test_a_dead_lettered_reserve_is_not_asked_again_and_its_order_ends_at_the_saga_time_out(buyer, make_product):
    sku = make_product(stock=3)["sku"]
    client = broker()
    try:
        stack_ctl("stop", "app:inventory-worker")
        order_id = place(buyer, sku)
        reserve = outbox_row("orders", "inventory.reserve", order_id)
        wait_until(lambda: queued(client, "inventory", reserve["message_id"]), timeout=30, message="reserve queued")
        # Spoiled on the way: a quantity the contract refuses, so inventory dead-letters it.
        index, body = queued(client, "inventory", reserve["message_id"])
        args, kwargs, embed = json.loads(base64.b64decode(body["body"]))
        args[0]["payload"]["lines"][0]["quantity"] = 0
        body["body"] = base64.b64encode(json.dumps([args, kwargs, embed]).encode()).decode()
        client.lset("inventory", index, json.dumps(body))
    finally:
        ensure_running("app:inventory-worker")

    dead_letter = (
        "SELECT error FROM service_kit_deadletter WHERE message_id = %s AND replayed_at IS NULL",
        (reserve["message_id"],),
    )
    wait_until(lambda: fetch("inventory", *dead_letter), timeout=30, message="the spoiled reserve dead-lettered")
    # Its receipt says so: orders marks the request, and does not ask again what can only fail again.
    wait_until(
        lambda: fetch("orders", "SELECT 1 FROM service_kit_outboxmessage WHERE message_id = %s AND dead_lettered",
                      (reserve["message_id"],)),
        timeout=30,
        message="orders told of the dead letter",
    )  # fmt: skip
    [order] = wait_terminal([order_id], timeout=SAGA_TIMEOUT + 30).values()

    assert (order["status"], order["cancel_reason"]) == ("cancelled", "saga_timeout")
    assert outbox_row("orders", "inventory.reserve", order_id)["attempts"] == 1
    [letter] = fetch("inventory", *dead_letter)
    assert "payload breaks the contract" in letter["error"] and "quantity" in letter["error"], letter["error"]
    # The operator, having read it, closes it; every invariant holds for the cancelled order.
    fetch(
        "inventory",
        "UPDATE service_kit_deadletter SET replayed_at = now(), resolution = 'read' WHERE message_id = %s RETURNING 1",
        (reserve["message_id"],),
    )
    check_invariants([order_id], stock_in={sku: 3})
