"""The saga's end state, read straight from the four services' databases.

Connection URLs come from USERS_DATABASE_URL, INVENTORY_DATABASE_URL, ORDERS_DATABASE_URL and
PAYMENTS_DATABASE_URL (`python -m stack env` prints them). Once the saga has settled:
- every order is terminal (confirmed or cancelled);
- a confirmed order has exactly one payment, succeeded, of its total, and a committed reservation;
- a cancelled order has no succeeded payment (declined, refunded or none) and no held or sold stock
  (its reservation is released, rejected, returned or absent);
- every product has 0 <= reserved <= on_hand, and `reserved` is exactly what held reservations hold;
- no outbox row is left unsent in any database, and no message about these orders is left dead-lettered
  (one an operator replayed counts as handled);
- given the stock a test put in (initial stock plus restocks, by SKU), stock is conserved: on hand now
  plus the units sold (committed reservations; returned ones are back on hand) equals it.

Messages may still be on their way when an order turns terminal (the commit after a confirmation,
the refund after a cancel), so `check_invariants` polls until they hold or its time is up.
"""

import os
import time
from collections.abc import Iterable
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row

SERVICES = ("users", "inventory", "orders", "payments")
TERMINAL = {"confirmed", "cancelled"}
RESERVATION_AFTER_CANCEL = {"released", "rejected", "returned"}


def database_url(service: str) -> str:
    name = f"{service.upper()}_DATABASE_URL"
    url = os.environ.get(name)
    if not url:
        pytest.fail(f'{name} must be set (eval "$(python -m stack env)")', pytrace=False)
    return url


def fetch(service: str, sql: str, params: Iterable | dict = ()) -> list[dict]:
    """Rows of one query as dicts, each query in its own autocommit connection (a single snapshot)."""
    with (
        psycopg.connect(database_url(service), autocommit=True, connect_timeout=5) as conn,
        conn.cursor(row_factory=dict_row) as cursor,
    ):
        cursor.execute(sql, params)
        return cursor.fetchall()


def all_order_ids() -> list[str]:
    return [row["id"] for row in fetch("orders", "SELECT id::text AS id FROM orders_order")]


def orders_by_id(order_ids: Iterable[str]) -> dict[str, dict]:
    rows = fetch(
        "orders",
        "SELECT id::text AS id, status, cancel_reason, total, correlation_id, created_at "
        "FROM orders_order WHERE id = ANY(%s::uuid[])",
        (list(order_ids),),
    )
    return {row["id"]: row for row in rows}


def wait_terminal(order_ids: Iterable[str], timeout: float = 60.0, interval: float = 0.05) -> dict[str, dict]:
    """Poll the orders database until every order is confirmed or cancelled; their rows.

    Each row gets `seen_terminal_at` (time.time()) when this poll first saw it terminal.
    """
    wanted = set(order_ids)
    seen: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while True:
        pending = wanted - seen.keys()
        now = time.time()
        for order_id, row in orders_by_id(pending).items():
            if row["status"] in TERMINAL:
                seen[order_id] = {**row, "seen_terminal_at": now}
        pending = wanted - seen.keys()
        if not pending:
            return seen
        if time.monotonic() > deadline:
            states = {order_id: row["status"] for order_id, row in orders_by_id(pending).items()}
            missing = pending - states.keys()
            raise AssertionError(
                f"{len(pending)} order(s) not terminal after {timeout:.0f} s: {states}"
                + (f"; not in the orders database: {sorted(missing)}" if missing else "")
            )
        time.sleep(interval)


def unsent_outbox() -> dict[str, int]:
    """Unsent outbox rows per service that has any."""
    counts = {}
    for service in SERVICES:
        rows = fetch(service, "SELECT count(*) AS n FROM service_kit_outboxmessage WHERE sent_at IS NULL")
        if rows[0]["n"]:
            counts[service] = rows[0]["n"]
    return counts


def product_violations() -> list[str]:
    """Products out of bounds, or whose `reserved` differs from what held reservations hold."""
    rows = fetch(
        "inventory",
        """
        SELECT p.sku, p.on_hand, p.reserved, coalesce(h.held, 0) AS held
        FROM inventory_product p
        LEFT JOIN (
            SELECT l.product_id, sum(l.quantity) AS held
            FROM inventory_reservationline l
            JOIN inventory_reservation r ON r.id = l.reservation_id
            WHERE r.status = 'held'
            GROUP BY l.product_id
        ) h ON h.product_id = p.sku
        WHERE p.on_hand < 0 OR p.reserved < 0 OR p.reserved > p.on_hand OR p.reserved <> coalesce(h.held, 0)
        """,
    )
    return [
        f"product {row['sku']}: on_hand={row['on_hand']} reserved={row['reserved']} held by reservations={row['held']}"
        for row in rows
    ]


def order_violations(order_ids: list[str]) -> list[str]:
    problems = []
    orders = orders_by_id(order_ids)
    problems += [f"order {order_id} is not in the orders database" for order_id in set(order_ids) - orders.keys()]
    lines = fetch(
        "orders",
        "SELECT order_id::text AS order_id, quantity, unit_price FROM orders_orderline "
        "WHERE order_id = ANY(%s::uuid[])",
        (order_ids,),
    )
    # Sum of quantity x unit price per order; None while a line is unpriced.
    priced: dict[str, Decimal | None] = {}
    for line in lines:
        so_far = priced.get(line["order_id"], Decimal(0))
        unpriced = so_far is None or line["unit_price"] is None
        priced[line["order_id"]] = None if unpriced else so_far + line["quantity"] * line["unit_price"]
    payments: dict[str, list[dict]] = {}
    for row in fetch(
        "payments",
        "SELECT order_id::text AS order_id, status, amount FROM payments_payment WHERE order_id = ANY(%s::uuid[])",
        (order_ids,),
    ):
        payments.setdefault(row["order_id"], []).append(row)
    reservations = {
        row["order_id"]: row["status"]
        for row in fetch(
            "inventory",
            "SELECT order_id::text AS order_id, status FROM inventory_reservation WHERE order_id = ANY(%s::uuid[])",
            (order_ids,),
        )
    }
    for order_id, order in orders.items():
        status, charges, reservation = order["status"], payments.get(order_id, []), reservations.get(order_id)
        if status not in TERMINAL:
            problems.append(f"order {order_id} is {status}, not terminal")
        elif status == "confirmed":
            if [charge["status"] for charge in charges] != ["succeeded"]:
                problems.append(f"confirmed order {order_id} has payments {charges}, not one succeeded")
            elif charges[0]["amount"] != order["total"]:
                problems.append(f"confirmed order {order_id} charged {charges[0]['amount']}, total {order['total']}")
            if priced.get(order_id) != order["total"]:
                problems.append(
                    f"confirmed order {order_id}: total {order['total']} but lines sum to {priced.get(order_id)}"
                )
            if reservation != "committed":
                problems.append(f"confirmed order {order_id} has reservation {reservation}, not committed")
        else:
            if any(charge["status"] == "succeeded" for charge in charges):
                problems.append(f"cancelled order {order_id} ({order['cancel_reason']}) keeps a charge: {charges}")
            if reservation is not None and reservation not in RESERVATION_AFTER_CANCEL:
                problems.append(f"cancelled order {order_id} ({order['cancel_reason']}) has reservation {reservation}")
    for service in SERVICES:
        for row in fetch(
            service,
            "SELECT type, envelope->'payload'->>'order_id' AS order_id FROM service_kit_deadletter "
            "WHERE envelope->'payload'->>'order_id' = ANY(%s) AND replayed_at IS NULL",
            (order_ids,),
        ):
            problems.append(f"{service} dead-lettered {row['type']} of order {row['order_id']}")
    return problems


def stock_violations(stock_in: dict[str, int]) -> list[str]:
    """Products whose stock is not conserved: on hand plus units sold must equal `stock_in[sku]` (initial
    stock plus restocks). Sold units are those of committed reservations; returned ones are on hand again."""
    rows = fetch(
        "inventory",
        """
        SELECT p.sku, p.on_hand, coalesce(s.sold, 0) AS sold
        FROM inventory_product p
        LEFT JOIN (
            SELECT l.product_id, sum(l.quantity) AS sold
            FROM inventory_reservationline l
            JOIN inventory_reservation r ON r.id = l.reservation_id
            WHERE r.status = 'committed'
            GROUP BY l.product_id
        ) s ON s.product_id = p.sku
        WHERE p.sku = ANY(%s)
        """,
        (list(stock_in),),
    )
    found = {row["sku"]: row for row in rows}
    problems = [f"product {sku} is not in the inventory database" for sku in stock_in.keys() - found.keys()]
    for sku, row in found.items():
        if row["on_hand"] + row["sold"] != stock_in[sku]:
            problems.append(f"product {sku}: on_hand={row['on_hand']} + sold={row['sold']} != {stock_in[sku]} put in")
    return problems


def violations(order_ids: list[str], stock_in: dict[str, int] | None = None) -> list[str]:
    problems = order_violations(order_ids) + product_violations()
    if stock_in:
        problems += stock_violations(stock_in)
    problems += [f"{service} has {count} unsent outbox row(s)" for service, count in unsent_outbox().items()]
    return problems


def check_invariants(
    order_ids: Iterable[str] | None = None, *, timeout: float = 60.0, stock_in: dict[str, int] | None = None
) -> None:
    """Wait for the orders (default: all) to be terminal, then until every invariant holds; fail with what does not.

    `stock_in` (initial stock plus restocks by SKU) adds the check that stock is conserved."""
    ids = list(order_ids) if order_ids is not None else all_order_ids()
    deadline = time.monotonic() + timeout
    wait_terminal(ids, timeout=timeout)
    while True:
        problems = violations(ids, stock_in)
        if not problems:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"saga invariants broken after {timeout:.0f} s:\n" + "\n".join(problems[:50]))
        time.sleep(0.25)
