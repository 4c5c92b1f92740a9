"""One saga service redeployed (`python -m stack redeploy <service>`) while orders flow through the gateway.

For each of inventory, orders and payments: orders leave at a steady rate (RATE a second, on a fixed schedule)
from LEAD seconds before the redeploy until TAIL seconds after it; the redeploy must replace the service's
gunicorn workers (one master, new workers), its relay and its worker, and then no request may have failed, no
POST may have run twice (each carries its own request id and Idempotency-Key: one order each), every order must
end as its card says, and every invariant of tests/invariants.py must hold, stock conservation included.
Bounded: at most RATE x (LEAD + REDEPLOY_TIMEOUT + TAIL) orders a service.
"""

import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests

from stack.__main__ import children

from .helpers import REPO_ROOT, process_pid
from .invariants import check_invariants, fetch, wait_terminal

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
RATE = 3.0  # orders a second
LEAD = 2.0  # seconds of orders before the redeploy starts
TAIL = 3.0  # and after it ended
REDEPLOY_TIMEOUT = 180.0
REQUEST_TIMEOUT = 30.0
BUYERS = 10  # ORDERS_RATE allows a user 30 orders a minute: 10 buyers take 3 a second with room to spare
STOCK = 10_000
# Besides the orders, the service's liveness through the gateway every PROBE_EVERY seconds: a window in which its
# port refuses connections (a stop, then a start) is caught even when no order happens to fall into it.
PROBE_EVERY = 0.05


@dataclass
class Sent:
    request_id: str
    payment_method: str
    status: int = 0
    order_id: str | None = None
    error: str = ""
    seconds: float = 0.0


class SteadyOrders:
    """Orders placed on a fixed schedule (open loop: a slow answer does not delay the next order), each from the
    next buyer in turn, until `stop()`; a bounded pool of threads sends them."""

    def __init__(self, buyers: list, sku: str, tag: str, limit: int):
        self.buyers, self.sku, self.tag, self.limit = buyers, sku, tag, limit
        self.sent: list[Sent] = []
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=16)
        self._thread = threading.Thread(target=self._schedule, daemon=True)

    def _schedule(self) -> None:
        started = time.monotonic()
        for index in range(self.limit):
            delay = started + index / RATE - time.monotonic()
            if self._stop.wait(max(0.0, delay)):
                return
            method = DECLINED if index % 10 == 9 else VISA
            sent = Sent(request_id=f"redeploy-{self.tag}-{index}", payment_method=method)
            self.sent.append(sent)
            self._pool.submit(self._place, self.buyers[index % len(self.buyers)], sent)

    def _place(self, session, sent: Sent) -> None:
        body = {"lines": [{"sku": self.sku, "quantity": 1}], "payment_method": sent.payment_method}
        headers = {"Idempotency-Key": sent.request_id, "X-Request-ID": sent.request_id}
        began = time.monotonic()
        try:
            response = session.post("/api/orders/", json=body, headers=headers, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as exc:
            sent.error = repr(exc)
        else:
            sent.status = response.status_code
            if response.status_code == 201:
                sent.order_id = response.json()["id"]
            else:
                sent.error = response.text[:300]
        sent.seconds = round(time.monotonic() - began, 3)

    def __enter__(self) -> "SteadyOrders":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._pool.shutdown(wait=True)

    def __exit__(self, *exc) -> None:
        self.stop()


class Prober:
    """GET of a service's liveness through the gateway every PROBE_EVERY seconds until stopped; what failed."""

    def __init__(self, session, service: str):
        self.session, self.path = session, f"/api/{service}/health/live/"
        self.count, self.failures = 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(PROBE_EVERY):
            try:
                status = self.session.get(self.path, timeout=REQUEST_TIMEOUT).status_code
            except requests.RequestException as exc:
                status = repr(exc)
            self.count += 1
            if status != 200:
                self.failures.append(status)

    def __enter__(self) -> "Prober":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=REQUEST_TIMEOUT + 5)


@pytest.fixture(scope="module")
def buyers(register_user, make_session) -> list:
    return [make_session(register_user()["access"]) for _ in range(BUYERS)]


def processes_of(service: str) -> dict:
    web = process_pid(f"app:{service}-web")
    return {
        "web master": web,
        "web workers": children(web) if web else set(),
        "relay": process_pid(f"app:{service}-relay"),
        "worker": process_pid(f"app:{service}-worker"),
    }


@pytest.mark.parametrize("service", ["inventory", "orders", "payments"])
def test_service_redeployed_while_orders_flow_fails_no_request_and_loses_no_order(
    service, buyers, make_product, make_session
):
    product = make_product(stock=STOCK, price="2.50")
    before = processes_of(service)
    limit = int(RATE * (LEAD + REDEPLOY_TIMEOUT + TAIL))
    tag = f"{service}-{uuid.uuid4().hex[:8]}"
    with SteadyOrders(buyers, product["sku"], tag, limit) as flow, Prober(make_session(), service) as prober:
        time.sleep(LEAD)
        started = time.monotonic()
        redeploy = subprocess.run(
            [sys.executable, "-m", "stack", "redeploy", service],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=REDEPLOY_TIMEOUT,
        )
        took = time.monotonic() - started
        time.sleep(TAIL)
    assert redeploy.returncode == 0, redeploy.stdout + redeploy.stderr
    after = processes_of(service)

    sent = flow.sent
    assert len(sent) >= RATE * (LEAD + took), f"only {len(sent)} orders in {LEAD + took:.1f} s"
    failed = [s for s in sent if s.status != 201]
    assert not failed, f"{len(failed)} of {len(sent)} POSTs failed during the redeploy: {failed[:5]}"
    assert prober.count >= (LEAD + took) / PROBE_EVERY / 4, f"only {prober.count} probes"
    assert not prober.failures, f"{len(prober.failures)} of {prober.count} probes failed: {prober.failures[:5]}"

    # The redeploy replaced the service's processes: gunicorn's master kept the socket, its workers are new.
    assert after["web master"] == before["web master"]
    assert after["web workers"] and not after["web workers"] & before["web workers"], (before, after)
    assert after["relay"] != before["relay"] and after["worker"] != before["worker"], (before, after)

    # A POST never ran twice: one order per request id, and every one answered is there.
    rows = fetch(
        "orders",
        "SELECT correlation_id, count(*) AS n FROM orders_order WHERE correlation_id = ANY(%s) GROUP BY 1",
        ([s.request_id for s in sent],),
    )
    assert {row["correlation_id"]: row["n"] for row in rows} == {s.request_id: 1 for s in sent}

    order_ids = [s.order_id for s in sent]
    terminal = wait_terminal(order_ids, timeout=120, interval=0.25)
    for s in sent:
        row = terminal[s.order_id]
        expected = ("confirmed", "") if s.payment_method == VISA else ("cancelled", "payment_declined")
        assert (row["status"], row["cancel_reason"] or "") == expected, (s, row)
    check_invariants(order_ids, timeout=90, stock_in={product["sku"]: STOCK})
    slowest = max(s.seconds for s in sent)
    print(
        f"\nREDEPLOY {service}: {took:.1f} s, {len(sent)} orders at {RATE}/s, none failed, "
        f"slowest POST {slowest:.2f} s, {prober.count} probes none failed\n{redeploy.stdout.strip()}"
    )
