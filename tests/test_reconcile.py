"""Reconciliation across services, through the real stack: `manage.py reconcile` of orders_svc asks payments and
inventory over their /internal/ endpoints with a service token, finds nothing on a consistent platform, and finds
exactly a row changed behind a service's back.
"""

import json
import os
import subprocess
import sys

import pytest

from .helpers import REPO_ROOT, assert_envelope, wait_until
from .invariants import fetch, wait_terminal

ORDERS = "/api/orders/"
VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
INTERNAL_PATHS = [
    "/internal/payments/lookup/",
    "/internal/inventory/reservations/lookup/",
    "/internal/inventory/stock/lookup/",
]


def reconcile() -> dict:
    """`manage.py reconcile` of orders_svc with its processes' environment (`python -m stack manage`)."""
    result = subprocess.run(
        [sys.executable, "-m", "stack", "manage", "orders", "reconcile", "--json", "--settle-seconds", "0",
         "--window-hours", "1"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=os.environ,
    )  # fmt: skip
    assert result.returncode == 0, f"reconcile failed: {result.stdout} {result.stderr}"
    run = json.loads(result.stdout.strip().splitlines()[-1])
    assert run["status"] == "succeeded", run
    return run


def findings_about(run: dict, *, order_ids: set[str], skus: set[str]) -> set[tuple[str, str]]:
    """(order id or SKU, kind) of the run's findings about this test's orders and products: other tests' orders
    on the same stack may be mid-saga, which a settle time of 0 does not wait for."""
    return {
        (finding["order_id"] or finding["sku"], finding["kind"])
        for finding in run["findings"]
        if finding["order_id"] in order_ids or finding["sku"] in skus
    }


def place(buyer, sku: str, quantity: int, payment_method: str) -> str:
    body = {"lines": [{"sku": sku, "quantity": quantity}], "payment_method": payment_method}
    response = buyer.post(ORDERS, json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def reservation_status(order_id: str) -> str | None:
    rows = fetch("inventory", "SELECT status FROM inventory_reservation WHERE order_id = %s", (order_id,))
    return rows[0]["status"] if rows else None


@pytest.fixture
def settled_orders(buyer, make_product):
    """One confirmed and one declined order of a fresh product, with inventory's answers settled too."""
    product = make_product(stock=10, price="12.50")
    confirmed = place(buyer, product["sku"], 2, VISA)
    declined = place(buyer, product["sku"], 1, DECLINED)
    rows = wait_terminal([confirmed, declined])
    assert rows[confirmed]["status"] == "confirmed", rows
    assert (rows[declined]["status"], rows[declined]["cancel_reason"]) == ("cancelled", "payment_declined"), rows
    # The saga's last steps (commit, release) follow the order's own change.
    wait_until(lambda: reservation_status(confirmed) == "committed", timeout=30, message="stock committed")
    wait_until(lambda: reservation_status(declined) == "released", timeout=30, message="stock released")
    return {"confirmed": confirmed, "declined": declined, "sku": product["sku"]}


def test_reconcile_finds_nothing_then_exactly_what_was_changed_behind_a_service(settled_orders):
    confirmed, declined, sku = settled_orders["confirmed"], settled_orders["declined"], settled_orders["sku"]
    mine = {"order_ids": {confirmed, declined}, "skus": {sku}}

    first = reconcile()
    assert first["orders_checked"] >= 2
    assert findings_about(first, **mine) == set()

    # A payment's amount changed in the payments database.
    fetch("payments", "UPDATE payments_payment SET amount = amount + 1 WHERE order_id = %s RETURNING id", (confirmed,))
    try:
        assert findings_about(reconcile(), **mine) == {(confirmed, "payment_amount_mismatch")}
    finally:
        fetch("payments", "UPDATE payments_payment SET amount = amount - 1 WHERE order_id = %s RETURNING id",
              (confirmed,))  # fmt: skip

    # A reservation's status changed in the inventory database: the declined order's stock held again.
    fetch("inventory", "UPDATE inventory_reservation SET status = 'held' WHERE order_id = %s RETURNING id",
          (declined,))  # fmt: skip
    try:
        found = findings_about(reconcile(), **mine)
    finally:
        fetch("inventory", "UPDATE inventory_reservation SET status = 'released' WHERE order_id = %s RETURNING id",
              (declined,))  # fmt: skip
    # Held lines the product's `reserved` does not count: the ledger disagrees too.
    assert found == {(declined, "stock_still_held"), (sku, "stock_reserved_mismatch")}

    # The confirmed order's stock given back behind its back.
    fetch("inventory", "UPDATE inventory_reservation SET status = 'released' WHERE order_id = %s RETURNING id",
          (confirmed,))  # fmt: skip
    try:
        assert findings_about(reconcile(), **mine) == {(confirmed, "reservation_not_committed")}
    finally:
        fetch("inventory", "UPDATE inventory_reservation SET status = 'committed' WHERE order_id = %s RETURNING id",
              (confirmed,))  # fmt: skip

    assert findings_about(reconcile(), **mine) == set()


def test_findings_are_stored_with_their_run(settled_orders):
    confirmed = settled_orders["confirmed"]
    fetch("payments", "UPDATE payments_payment SET currency = 'EUR' WHERE order_id = %s RETURNING id", (confirmed,))
    try:
        run = reconcile()
    finally:
        fetch("payments", "UPDATE payments_payment SET currency = 'USD' WHERE order_id = %s RETURNING id",
              (confirmed,))  # fmt: skip

    stored = fetch(
        "orders",
        "SELECT f.kind, r.status, r.trigger FROM orders_reconciliationfinding f "
        "JOIN orders_reconciliationrun r ON r.id = f.run_id WHERE r.id = %s AND f.order_id = %s",
        (run["run"], confirmed),
    )
    assert stored == [{"kind": "payment_amount_mismatch", "status": "succeeded", "trigger": "command"}]


def test_the_relay_runs_reconciliation_on_its_own_schedule():
    runs = wait_until(
        lambda: fetch("orders", "SELECT status, error FROM orders_reconciliationrun WHERE trigger = 'schedule'"),
        timeout=60,
        interval=1,
        message="a scheduled reconciliation run",
    )
    assert all(run["status"] != "failed" for run in runs), runs


@pytest.mark.parametrize("path", INTERNAL_PATHS)
def test_internal_endpoints_are_not_routed_by_the_gateway(api, path):
    from stack.config import StackConfig

    service = path.split("/")[2]
    # The service itself answers (401: no token) on its own port...
    direct = api.post(f"http://127.0.0.1:{StackConfig.from_env().web_port(service)}{path}", json={})
    assert direct.status_code == 401, direct.text
    # ...the gateway does not route the path at all.
    assert_envelope(api.post(path, json={}), 404)
    assert_envelope(api.get(path), 404)
