"""The order saga end to end, through nginx, with the real workers: every order settles by itself.

Each test uses products made for it by staff, so stock figures are exact, and ends with the
invariants of tests/invariants.py. Times from POST to confirmed are collected in `saga_timings`.
"""

import threading
import time
import uuid
from decimal import Decimal

import pytest

from .helpers import assert_envelope, wait_until
from .invariants import check_invariants, fetch, wait_terminal

ORDERS = "/api/orders/"
PAYMENTS = "/api/payments/"
PRODUCTS = "/api/inventory/products/"
VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
SETTLE_TIMEOUT = 60.0


def place(session, lines: list[tuple[str, int]], payment_method: str = VISA, headers: dict | None = None):
    body = {"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines], "payment_method": payment_method}
    return session.post(ORDERS, json=body, headers=headers or {})


def placed(session, lines: list[tuple[str, int]], payment_method: str = VISA) -> dict:
    """Place an order; it must be accepted pending, unpriced."""
    response = place(session, lines, payment_method)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "pending", order
    assert order["total"] is None and order["cancel_reason"] is None, order
    return order


def settled(session, order_id: str, timeout: float = SETTLE_TIMEOUT) -> dict:
    """The order as its owner sees it once it is confirmed or cancelled."""
    wait_terminal([order_id], timeout=timeout)
    response = session.get(f"{ORDERS}{order_id}/")
    assert response.status_code == 200, response.text
    return response.json()


def available(session, sku: str) -> int:
    response = session.get(f"{PRODUCTS}{sku}/")
    assert response.status_code == 200, response.text
    return response.json()["available"]


def stock(sku: str) -> dict:
    """on_hand and reserved of a product, from the inventory database."""
    return fetch("inventory", "SELECT on_hand, reserved FROM inventory_product WHERE sku = %s", (sku,))[0]


def payments_of(session, order_id: str) -> list[dict]:
    response = session.get(PAYMENTS, params={"page_size": 100})
    assert response.status_code == 200, response.text
    return [payment for payment in response.json()["results"] if payment["order_id"] == order_id]


def record_timings(saga_timings: list, posted_at: dict[str, float], terminal: dict[str, dict]) -> None:
    """Add the confirmed orders' times from POST to confirmed, server-side and as the client saw them."""
    rows = fetch(
        "orders",
        "SELECT o.id::text AS id, EXTRACT(EPOCH FROM (h.occurred_at - o.created_at)) AS seconds "
        "FROM orders_order o JOIN orders_orderstatuschange h ON h.order_id = o.id AND h.status = 'confirmed' "
        "WHERE o.id = ANY(%s::uuid[])",
        (list(posted_at),),
    )
    for row in rows:
        saga_timings.append(
            {
                "order_id": row["id"],
                "server": round(float(row["seconds"]), 4),
                "client": round(terminal[row["id"]]["seen_terminal_at"] - posted_at[row["id"]], 4),
            }
        )


def test_order_is_confirmed_priced_charged_once_and_takes_the_stock(buyer, make_product, saga_timings):
    mug = make_product(stock=10, price="12.34")
    poster = make_product(stock=4, price="5.05")

    posted_at = time.time()
    order = placed(buyer, [(mug["sku"], 3), (poster["sku"], 2)])
    terminal = wait_terminal([order["id"]], timeout=SETTLE_TIMEOUT)
    order = settled(buyer, order["id"])

    assert order["status"] == "confirmed", order
    assert order["cancel_reason"] is None
    assert order["currency"] == "USD"
    assert {line["sku"]: line["unit_price"] for line in order["lines"]} == {mug["sku"]: "12.34", poster["sku"]: "5.05"}
    assert Decimal(order["total"]) == 3 * Decimal("12.34") + 2 * Decimal("5.05") == Decimal("47.12")
    assert order["total"] == "47.12"
    [payment] = payments_of(buyer, order["id"])
    assert payment["status"] == "succeeded"
    assert payment["amount"] == "47.12"
    assert payment["currency"] == "USD"
    check_invariants([order["id"]])
    assert available(buyer, mug["sku"]) == 7
    assert available(buyer, poster["sku"]) == 2
    assert stock(mug["sku"]) == {"on_hand": 7, "reserved": 0}
    assert stock(poster["sku"]) == {"on_hand": 2, "reserved": 0}
    record_timings(saga_timings, {order["id"]: posted_at}, terminal)


def test_declined_card_cancels_the_order_and_gives_the_stock_back(buyer, make_product):
    product = make_product(stock=5, price="3.00")

    order = placed(buyer, [(product["sku"], 2)], payment_method=DECLINED)
    order = settled(buyer, order["id"])

    assert order["status"] == "cancelled", order
    assert order["cancel_reason"] == "payment_declined"
    assert order["total"] == "6.00"  # priced at reservation, before the charge was declined
    [payment] = payments_of(buyer, order["id"])
    assert payment["status"] == "declined"
    assert payment["amount"] == "6.00"
    check_invariants([order["id"]])
    assert available(buyer, product["sku"]) == 5
    assert stock(product["sku"]) == {"on_hand": 5, "reserved": 0}


def test_order_for_more_than_the_stock_is_cancelled_out_of_stock_and_reserves_no_line(buyer, make_product):
    plenty = make_product(stock=5)
    scarce = make_product(stock=3)

    order = placed(buyer, [(plenty["sku"], 1), (scarce["sku"], 4)])
    order = settled(buyer, order["id"])

    assert order["status"] == "cancelled", order
    assert order["cancel_reason"] == "out_of_stock"
    assert payments_of(buyer, order["id"]) == []
    check_invariants([order["id"]])
    assert available(buyer, plenty["sku"]) == 5
    assert available(buyer, scarce["sku"]) == 3
    assert stock(plenty["sku"]) == {"on_hand": 5, "reserved": 0}


def test_order_with_an_unknown_sku_is_cancelled_unknown_product(buyer, make_product):
    known = make_product(stock=5)

    order = placed(buyer, [(known["sku"], 1), (f"E2E-NOSUCH-{uuid.uuid4().hex.upper()}", 1)])
    order = settled(buyer, order["id"])

    assert order["status"] == "cancelled", order
    assert order["cancel_reason"] == "unknown_product"
    assert payments_of(buyer, order["id"]) == []
    check_invariants([order["id"]])
    assert available(buyer, known["sku"]) == 5


def test_same_idempotency_key_twice_places_one_order_and_another_body_is_refused(buyer, make_product):
    product = make_product(stock=10)
    key = {"Idempotency-Key": f"e2e-{uuid.uuid4()}"}

    first = place(buyer, [(product["sku"], 2)], headers=key)
    second = place(buyer, [(product["sku"], 2)], headers=key)
    other_body = place(buyer, [(product["sku"], 3)], headers=key)

    assert first.status_code == 201, first.text
    assert second.status_code in (200, 201), second.text
    assert second.json()["id"] == first.json()["id"]
    assert other_body.status_code in (409, 422), other_body.text
    assert_envelope(other_body, other_body.status_code, "client_error")
    order = settled(buyer, first.json()["id"])
    assert order["status"] == "confirmed", order
    listed = buyer.get(ORDERS).json()
    assert [item["id"] for item in listed["results"]] == [order["id"]]
    assert len(payments_of(buyer, order["id"])) == 1
    check_invariants([order["id"]])
    assert stock(product["sku"]) == {"on_hand": 8, "reserved": 0}
    # A replay after the saga finished still answers the same order, and places nothing.
    late = place(buyer, [(product["sku"], 2)], headers=key)
    assert late.status_code in (200, 201), late.text
    assert late.json()["id"] == order["id"]
    assert buyer.get(ORDERS).json()["count"] == 1


def test_customer_cancelling_a_confirmed_order_is_refunded_and_the_stock_returns(buyer, make_product):
    product = make_product(stock=6, price="10.00")
    order = placed(buyer, [(product["sku"], 2)])
    assert settled(buyer, order["id"])["status"] == "confirmed"

    # At once, so the refund and restock may race the commit of the sale.
    response = buyer.post(f"{ORDERS}{order['id']}/cancel/")

    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "cancelled_by_customer"
    assert cancelled["total"] == "20.00"
    refunded = wait_until(
        lambda: [p for p in payments_of(buyer, order["id"]) if p["status"] == "refunded"],
        timeout=SETTLE_TIMEOUT,
        message="payment refunded",
    )
    assert len(refunded) == 1 and refunded[0]["amount"] == "20.00"
    check_invariants([order["id"]])
    assert available(buyer, product["sku"]) == 6
    assert stock(product["sku"]) == {"on_hand": 6, "reserved": 0}
    again = buyer.post(f"{ORDERS}{order['id']}/cancel/")
    assert again.status_code == 200, again.text
    assert again.json() == cancelled
    assert len(payments_of(buyer, order["id"])) == 1


def test_twenty_buyers_at_once_for_the_last_five_units_get_five_confirmed_orders(
    register_user, make_session, make_product, saga_timings
):
    buyers = [make_session(register_user()["access"]) for _ in range(20)]  # before the race: sign-up is throttled
    product = make_product(stock=5, price="9.99")
    sku = product["sku"]
    lowest = {"on_hand": 5, "reserved": 0, "available": 5}
    sampling = threading.Event()

    def sample_stock() -> None:
        deadline = time.monotonic() + 120
        while not sampling.is_set() and time.monotonic() < deadline:
            row = stock(sku)
            lowest["on_hand"] = min(lowest["on_hand"], row["on_hand"])
            lowest["reserved"] = min(lowest["reserved"], row["reserved"])
            lowest["available"] = min(lowest["available"], row["on_hand"] - row["reserved"])
            time.sleep(0.01)

    start = threading.Barrier(len(buyers), timeout=30)
    responses: list = [None] * len(buyers)
    posted_at: list = [None] * len(buyers)

    def buy(index: int) -> None:
        start.wait()
        posted_at[index] = time.time()
        responses[index] = place(buyers[index], [(sku, 1)])

    sampler = threading.Thread(target=sample_stock, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=buy, args=(index,), daemon=True) for index in range(len(buyers))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert all(response is not None for response in responses), "a buyer's POST did not return"
        assert [response.status_code for response in responses] == [201] * 20, [r.text for r in responses]
        ids = [response.json()["id"] for response in responses]
        terminal = wait_terminal(ids, timeout=90)
    finally:
        sampling.set()
        sampler.join(timeout=10)

    outcomes = sorted((row["status"], row["cancel_reason"]) for row in terminal.values())
    assert outcomes == [("cancelled", "out_of_stock")] * 15 + [("confirmed", None)] * 5, outcomes
    check_invariants(ids)
    assert stock(sku) == {"on_hand": 0, "reserved": 0}
    assert available(buyers[0], sku) == 0
    assert min(lowest.values()) >= 0, lowest
    posted = dict(zip(ids, posted_at, strict=True))
    record_timings(
        saga_timings,
        {order_id: posted[order_id] for order_id, row in terminal.items() if row["status"] == "confirmed"},
        terminal,
    )


@pytest.mark.parametrize("payment_method", [VISA, DECLINED])
def test_request_id_of_the_post_is_the_correlation_id_of_every_saga_message(buyer, make_product, payment_method):
    product = make_product(stock=3)
    request_id = f"e2e-{uuid.uuid4().hex}"

    response = place(buyer, [(product["sku"], 1)], payment_method, headers={"X-Request-ID": request_id})

    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == request_id
    order_id = response.json()["id"]
    settled(buyer, order_id)
    check_invariants([order_id])
    [row] = fetch("orders", "SELECT correlation_id FROM orders_order WHERE id = %s", (order_id,))
    assert row["correlation_id"] == request_id
    sent_by = {}
    for service in ("orders", "inventory", "payments"):
        rows = fetch(
            service,
            "SELECT type, envelope->>'correlation_id' AS correlation_id FROM service_kit_outboxmessage "
            "WHERE envelope->'payload'->>'order_id' = %s",
            (order_id,),
        )
        assert rows, f"{service} sent no message about the order"
        assert {row["correlation_id"] for row in rows} == {request_id}, rows
        sent_by[service] = sorted(row["type"] for row in rows)
    assert "inventory.reserve" in sent_by["orders"]
    assert sent_by["inventory"] == ["orders.stock_reserved"]
    expected_reply = "orders.payment_succeeded" if payment_method == VISA else "orders.payment_declined"
    assert sent_by["payments"] == [expected_reply]
