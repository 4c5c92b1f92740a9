"""Faults injected into the running native stack: the saga loses nothing, takes effect once, and recovers.

Each test drives the stack this environment points at (VAR_DIR, PORT_BASE; `python -m stack ctl`),
starts again in a finally block whatever it stops, and ends with the invariants of tests/invariants.py
for its own orders, stock conservation included. Figures (orders placed, how they ended, times to
recover, POST latencies) are printed with the prefix FAULT_FIGURES (`pytest -s`) and written to
var/test-artifacts/faults.json.

The stated limit: once a fault is over, every order is terminal within SETTLE_AFTER_FAULT seconds.
A task a killed worker held comes back after Redis's visibility timeout (60 s), and a message without
a receipt is sent again after 45 s (REDELIVER_AFTER); 120 s covers either with room to spare.

`make test-faults` runs only this file (`pytest -m faults` selects the same tests).
"""

import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import psycopg
import pytest
import redis
import requests
from celery import Celery
from psycopg import sql
from service_kit.conf import DEFAULTS as KIT_DEFAULTS

from stack import render
from stack.config import StackConfig

from .helpers import (
    REPO_ROOT,
    SERVICES,
    assert_envelope,
    ensure_running,
    process_pid,
    sign_in_session,
    stack_ctl,
    wait_until,
)
from .invariants import check_invariants, database_url, fetch, orders_by_id, wait_terminal

pytestmark = pytest.mark.faults

ORDERS = "/api/orders/"
PRODUCTS = "/api/inventory/products/"
VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
SAGA_SERVICES = ("inventory", "orders", "payments")
WORKERS = {service: f"app:{service}-worker" for service in SAGA_SERVICES}
REDIS = "infra:redis"
PG_INVENTORY = "infra:pg-inventory"
ORDERS_WEB = "app:orders-web"
SETTLE_AFTER_FAULT = 120.0
# nginx's proxy_read_timeout: no request may take longer.
REQUEST_TIMEOUT = 30.0
# Attempts of a message that always fails: the first and MESSAGE_MAX_RETRIES retries.
ATTEMPTS_PER_DELIVERY = KIT_DEFAULTS["MESSAGE_MAX_RETRIES"] + 1
ARTIFACT = REPO_ROOT / "var" / "test-artifacts" / "faults.json"


# FIGURES


@pytest.fixture(scope="module")
def figures():
    """Figures per fault; merged into var/test-artifacts/faults.json once the module is done."""
    recorded: dict[str, dict] = {}
    yield recorded
    if not recorded:
        return
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
    ARTIFACT.write_text(json.dumps({**previous, **recorded}, indent=2, sort_keys=True))
    print(f"\nFAULT_FIGURES written to {ARTIFACT}")


def record(figures: dict, fault: str, **values) -> None:
    figures[fault] = values
    print(f"\nFAULT_FIGURES {fault} {json.dumps(values, sort_keys=True, default=str)}")


def outcomes(rows) -> dict[str, int]:
    """How the orders ended: "confirmed" or "cancelled:<reason>", counted."""
    counted = Counter(
        row["status"] if row["status"] != "cancelled" else f"cancelled:{row['cancel_reason']}" for row in rows
    )
    return dict(sorted(counted.items()))


# THE STACK


def process_states() -> dict[str, str]:
    """supervisord's state of every process, by name ("app:orders-worker": "RUNNING")."""
    lines = stack_ctl("status", check=False).stdout.splitlines()
    return {parts[0]: parts[1] for parts in (line.split() for line in lines) if len(parts) > 1}


def healthy(service: str) -> bool:
    try:
        return requests.get(f"{gateway()}/api/{service}/health/", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def gateway() -> str:
    return os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080").rstrip("/")


@pytest.fixture(autouse=True)
def whole_stack():
    """Every process running and every service healthy before a fault, whatever an earlier test left."""
    stopped = [name for name, state in process_states().items() if state != "RUNNING"]
    if stopped:
        ensure_running(*stopped)
    for service in SERVICES:
        wait_until(lambda service=service: healthy(service), timeout=60, interval=0.5, message=f"{service} healthy")


def superuser_execute(service: str, statement: str | sql.Composable) -> list[tuple]:
    """Run SQL as the `postgres` superuser of a service's cluster, over its Unix socket (trust auth)."""
    cfg = StackConfig.from_env()
    with psycopg.connect(
        host=str(cfg.pg_socket_dir), port=cfg.pg_port(service), user="postgres", dbname=service, autocommit=True
    ) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def broker() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)


def held_unacked(client: redis.Redis, queue: str) -> int:
    """Messages of a queue a worker has taken and not yet acknowledged (the transport's "unacked" hash)."""
    count = 0
    for raw in client.hvals("unacked"):
        _message, _exchange, routing_key = json.loads(raw)
        count += routing_key == queue
    return count


def queues_drained(client: redis.Redis) -> bool:
    return all(client.llen(queue) == 0 and held_unacked(client, queue) == 0 for queue in SAGA_SERVICES)


# PLACING ORDERS


@dataclass
class Placed:
    """One POST of an order by a buyer's session: its answer (status 0 when none came) and how long it took."""

    session: requests.Session
    status: int
    seconds: float
    started: float
    order_id: str | None
    payment_method: str
    response: requests.Response | None
    error: str = ""


def place(session, lines: list[tuple[str, int]], payment_method: str = VISA) -> Placed:
    body = {"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines], "payment_method": payment_method}
    started = time.monotonic()
    try:
        response = session.post(ORDERS, json=body, timeout=REQUEST_TIMEOUT + 10)
    except requests.RequestException as exc:  # no answer at all: a hang or a dropped connection
        return Placed(session, 0, time.monotonic() - started, started, None, payment_method, None, repr(exc))
    order_id = response.json()["id"] if response.status_code == 201 else None
    seconds = time.monotonic() - started
    return Placed(session, response.status_code, seconds, started, order_id, payment_method, response)


def placed_ok(session, lines: list[tuple[str, int]], payment_method: str = VISA) -> str:
    result = place(session, lines, payment_method)
    assert result.status == 201, result.response.text if result.response is not None else result.error
    return result.order_id


class Flow:
    """Orders placed by several buyers at once, one thread per buyer placing its orders one after another.

    `plan(n)` gives the lines and payment method of the n-th order overall."""

    def __init__(self, buyers: list, per_buyer: int, plan, interval: float = 0.0):
        self.buyers, self.per_buyer, self.plan, self.interval = buyers, per_buyer, plan, interval
        self.results: list[Placed] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(index,), daemon=True) for index in range(len(buyers))]

    def _run(self, index: int) -> None:
        for step in range(self.per_buyer):
            lines, payment_method = self.plan(index * self.per_buyer + step)
            result = place(self.buyers[index], lines, payment_method)
            with self._lock:
                self.results.append(result)
            time.sleep(self.interval)

    def start(self) -> "Flow":
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout: float = 120) -> "Flow":
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(thread.is_alive() for thread in self._threads), "a buyer's POST did not return"
        return self

    @property
    def done(self) -> int:
        return len(self.results)

    def accepted(self) -> list[Placed]:
        return [result for result in self.results if result.status == 201]

    def order_ids(self) -> list[str]:
        return [result.order_id for result in self.accepted()]

    def max_seconds(self) -> float:
        return round(max(result.seconds for result in self.results), 3)


@pytest.fixture
def make_buyers(register_user, make_session):
    """`make_buyers(n)`: n signed-in users; each may place only so many orders a minute (ORDERS_RATE)."""

    def make(count: int) -> list:
        buyers = []
        for _ in range(count):
            registered = register_user()
            session = make_session(registered["access"])
            session.user = registered
            buyers.append(session)
        return buyers

    return make


class StockLows:
    """The lowest on hand, reserved and available of some products, sampled every 50 ms while a fault runs.

    A sample that fails (the inventory database is down) is skipped."""

    def __init__(self, skus: list[str]):
        self.skus = skus
        self.lowest = {"on_hand": None, "reserved": None, "available": None}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rows = fetch(
                    "inventory",
                    "SELECT on_hand, reserved, on_hand - reserved AS available FROM inventory_product "
                    "WHERE sku = ANY(%s)",
                    (self.skus,),
                )
            except psycopg.Error:
                rows = []
            for row in rows:
                for key, value in row.items():
                    lowest = self.lowest[key]
                    self.lowest[key] = value if lowest is None else min(lowest, value)
            self.samples += bool(rows)
            self._stop.wait(0.05)

    def __enter__(self) -> "StockLows":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def assert_never_negative(self) -> None:
        assert self.samples, "stock was never sampled"
        assert all(value >= 0 for value in self.lowest.values()), self.lowest


def stock_of(sku: str) -> dict:
    return fetch("inventory", "SELECT on_hand, reserved FROM inventory_product WHERE sku = %s", (sku,))[0]


def charges(order_ids: list[str]) -> dict[str, list[str]]:
    found = {order_id: [] for order_id in order_ids}
    for row in fetch(
        "payments",
        "SELECT order_id::text AS order_id, status FROM payments_payment WHERE order_id = ANY(%s::uuid[])",
        (order_ids,),
    ):
        found[row["order_id"]].append(row["status"])
    return found


def settle(order_ids: list[str], fault_over_at: float) -> tuple[dict[str, dict], float]:
    """Wait for the orders to be terminal, within the stated limit after the fault; their rows and the seconds."""
    terminal = wait_terminal(order_ids, timeout=SETTLE_AFTER_FAULT, interval=0.25)
    return terminal, round(time.monotonic() - fault_over_at, 2)


def expected_outcomes(placed: list[Placed]) -> dict[str, int]:
    """With enough stock: every VISA order confirmed, every declined card cancelled as payment_declined."""
    counted = Counter(
        "confirmed" if result.payment_method == VISA else "cancelled:payment_declined" for result in placed
    )
    return dict(sorted(counted.items()))


# 0. THE PROCESS MANAGER'S STOP SIGNAL


def test_supervisord_sends_a_workers_stop_signal_to_its_main_process_only():
    # SIGTERM to the whole process group reaches Celery's pool children too, and they die in the
    # middle of their task; the main process alone does a warm shutdown that lets the task finish.
    conf = render.supervisor_conf(StackConfig.from_env())
    programs = {block.split("]", 1)[0]: block for block in conf.split("[program:")[1:]}
    for service in SAGA_SERVICES:
        worker = programs[f"{service}-worker"]
        assert "stopasgroup=false" in worker and "killasgroup=true" in worker, worker
        assert "stopsignal=TERM" in worker
    for name in ("orders-web", "orders-relay", "nginx"):
        assert "stopasgroup=true" in programs[name]


# 1. WORKERS KILLED


def kill_holding_a_task(client: redis.Redis, service: str, timeout: float = 60) -> dict:
    """SIGKILL a service's worker at a moment it provably holds a task of its queue.

    The worker's main process is paused (SIGSTOP), so nothing it holds can be acknowledged while the
    broker's unacked hash is read; holding a task, the paused process is killed, else it resumes and
    is looked at again a few milliseconds later. No timing bet: the kill lands mid-task by construction."""
    pid = process_pid(WORKERS[service])
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        os.kill(pid, signal.SIGSTOP)
        held, queued = held_unacked(client, service), client.llen(service)
        if held:
            os.kill(pid, signal.SIGKILL)
            return {
                "pid": pid,
                "seconds_after_start": round(time.monotonic() - started, 2),
                "tasks_held_at_kill": held,
                "tasks_queued_at_kill": queued,
            }
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.005)
    os.kill(pid, signal.SIGCONT)
    raise AssertionError(f"the {service} worker held no task within {timeout:.0f} s")


def test_a_worker_of_each_service_killed_with_sigkill_mid_task_loses_no_order_and_charges_once(
    make_buyers, make_product, figures
):
    product = make_product(stock=60, price="3.00")
    sku = product["sku"]
    buyers = make_buyers(5)

    def plan(n: int):
        return [(sku, 1)], DECLINED if n % 6 == 5 else VISA

    client = broker()
    kills: dict[str, dict] = {}
    backlog = flowing = None
    workers = list(WORKERS.values())
    with StockLows([sku]) as lows:
        try:
            # Stopped, the workers let a backlog build up. Then, one service after the other in the
            # saga's order, its worker is started on the messages waiting for it and killed holding one,
            # while more orders keep coming.
            for worker in workers:
                stack_ctl("stop", worker)
            backlog = Flow(buyers, 6, plan).start().join(60)
            assert [result.status for result in backlog.results] == [201] * 30
            flowing = Flow(buyers, 3, lambda n: plan(30 + n), interval=0.5).start()
            for service in SAGA_SERVICES:
                wait_until(lambda service=service: client.llen(service), timeout=60, message=f"{service} messages")
                stack_ctl("start", WORKERS[service])
                kills[service] = kill_holding_a_task(client, service)
            # supervisord starts each again by itself (autorestart).
            for service in SAGA_SERVICES:
                wait_until(
                    lambda service=service: process_pid(WORKERS[service]) not in {None, kills[service]["pid"]},
                    timeout=60,
                    interval=0.3,
                    message=f"{service} worker restarted by supervisord",
                )
            flowing.join(120)
        finally:
            ensure_running(*workers)
            if flowing is not None:
                flowing.join(120)
        fault_over_at = time.monotonic()
        placed = backlog.results + flowing.results
        order_ids = [result.order_id for result in placed if result.status == 201]
        terminal, seconds = settle(order_ids, fault_over_at)
    check_invariants(order_ids, stock_in={sku: 60})
    lows.assert_never_negative()

    record(
        figures,
        "1_worker_sigkill",
        orders_placed=len(placed),
        orders_accepted=len(order_ids),
        outcomes=outcomes(terminal.values()),
        kills=kills,
        seconds_to_all_terminal_after_restart=seconds,
        max_post_seconds=round(max(result.seconds for result in placed), 3),
        lowest_stock=lows.lowest,
    )
    assert len(order_ids) == len(placed) == 45, [result.status for result in placed]
    assert set(kills) == set(SAGA_SERVICES) and all(kill["tasks_held_at_kill"] for kill in kills.values()), kills
    assert outcomes(terminal.values()) == expected_outcomes(placed)
    assert all(len(found) == 1 for found in charges(order_ids).values())


def test_a_worker_stopped_with_sigterm_mid_charge_finishes_it_before_exiting(buyer, make_product, figures):
    product = make_product(stock=3, price="7.00")
    worker = WORKERS["payments"]
    # A long task: the charge waits for a lock this test holds on the payments table, after the gateway
    # answered and before the payment is stored.
    lock = psycopg.connect(database_url("payments"))
    stop_results: list = []
    stopper = None
    try:
        lock.execute("LOCK TABLE payments_payment IN SHARE MODE")
        order_id = placed_ok(buyer, [(product["sku"], 1)])

        def charge_waiting() -> bool:
            rows = fetch(
                "payments",
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"payments_payment\"%%'",
            )
            return rows[0]["n"] > 0

        wait_until(charge_waiting, timeout=30, message="the charge waiting for the lock")
        stopper = threading.Thread(target=lambda: stop_results.append(stack_ctl("stop", worker)), daemon=True)
        sigterm_at = time.monotonic()
        stopper.start()  # supervisorctl stop: SIGTERM, as at a deploy or `stack down`
        time.sleep(2)
        waiting_during_shutdown = charge_waiting()
        state_during_shutdown = process_states().get(worker)
        lock.rollback()  # the task may go on
        stopper.join(90)
        stopped_after = round(time.monotonic() - sigterm_at, 2)
        # Read before any worker runs again: only a task finished during the shutdown can have stored it.
        charged_at_exit = charges([order_id])[order_id]
    finally:
        lock.close()
        if stopper is not None:
            stopper.join(90)
        ensure_running(worker)
    fault_over_at = time.monotonic()
    terminal, seconds = settle([order_id], fault_over_at)
    check_invariants([order_id], stock_in={product["sku"]: 3})

    record(
        figures,
        "1_worker_sigterm",
        orders_placed=1,
        outcomes=outcomes(terminal.values()),
        worker_state_2s_after_sigterm=state_during_shutdown,
        seconds_from_sigterm_to_exit=stopped_after,
        charges_when_the_worker_exited=charged_at_exit,
        seconds_to_terminal_after_restart=seconds,
    )
    assert stop_results and stop_results[0].returncode == 0
    assert waiting_during_shutdown and state_during_shutdown == "STOPPING", (
        f"the running charge was not waited for: still waiting {waiting_during_shutdown}, {state_during_shutdown}"
    )
    assert charged_at_exit == ["succeeded"], "the worker exited without finishing its running charge"
    assert outcomes(terminal.values()) == {"confirmed": 1}
    assert charges([order_id])[order_id] == ["succeeded"]


# 2. REDIS RESTARTED


def test_redis_restarted_while_100_orders_are_placed_never_hangs_a_post_and_loses_no_order(
    make_buyers, make_product, figures
):
    product = make_product(stock=100, price="1.50")
    sku = product["sku"]
    buyers = make_buyers(5)
    flow = Flow(buyers, 20, lambda n: ([(sku, 1)], DECLINED if n % 10 == 9 else VISA), interval=0.25)
    down_at = up_at = None
    with StockLows([sku]) as lows:
        try:
            flow.start()
            wait_until(lambda: flow.done >= 30, timeout=60, message="30 orders placed")
            stack_ctl("stop", REDIS)
            down_at = time.monotonic()
            time.sleep(2)  # orders keep coming while it is down
            stack_ctl("start", REDIS)
            up_at = time.monotonic()
            flow.join(180)
        finally:
            ensure_running(REDIS)
            flow.join(180)
        fault_over_at = time.monotonic()
        order_ids = flow.order_ids()
        terminal, seconds = settle(order_ids, fault_over_at)
    check_invariants(order_ids, stock_in={sku: 100})
    lows.assert_never_negative()

    during = [result for result in flow.results if down_at <= result.started <= up_at]
    statuses = Counter(result.status for result in flow.results)
    record(
        figures,
        "2_redis_restart",
        orders_placed=len(flow.results),
        post_statuses=dict(statuses),
        posts_during_outage=len(during),
        redis_down_seconds=round(up_at - down_at, 2),
        max_post_seconds=flow.max_seconds(),
        max_post_seconds_during_outage=round(max((result.seconds for result in during), default=0), 3),
        outcomes=outcomes(terminal.values()),
        seconds_to_all_terminal_after_redis_back=seconds,
    )
    assert flow.done == 100
    assert all(result.seconds < REQUEST_TIMEOUT for result in flow.results), flow.max_seconds()
    for result in flow.results:
        assert result.response is not None, result.error
        if result.status != 201:
            assert_envelope(result.response, result.status, "server_error")
    # Every order stored is one a buyer was told about: nothing half-placed behind a 5xx.
    user_ids = [buyer.user["id"] for buyer in buyers]
    stored = fetch("orders", "SELECT id::text AS id FROM orders_order WHERE user_id = ANY(%s::uuid[])", (user_ids,))
    assert sorted(row["id"] for row in stored) == sorted(order_ids)
    assert outcomes(terminal.values()) == expected_outcomes(flow.accepted())


# 3. THE OUTBOX: DUPLICATES FROM THE RELAY, AND A TRANSACTION THAT FAILS AFTER THE INSERT


def saga_state(order_ids: list[str], sku: str) -> dict:
    """Everything the saga changed for these orders, to compare before and after duplicates."""
    messages = {}
    for service in SAGA_SERVICES:
        messages[service] = fetch(
            service,
            "SELECT message_id::text AS id, type FROM service_kit_outboxmessage "
            "WHERE envelope->'payload'->>'order_id' = ANY(%s) AND type NOT LIKE '%%.receipt' ORDER BY id",
            (order_ids,),
        )
    message_ids = [row["id"] for rows in messages.values() for row in rows]
    return {
        "orders": fetch(
            "orders",
            "SELECT id::text AS id, status, cancel_reason, total, "
            "(SELECT count(*) FROM orders_orderstatuschange h WHERE h.order_id = o.id) AS changes "
            "FROM orders_order o WHERE id = ANY(%s::uuid[]) ORDER BY id",
            (order_ids,),
        ),
        "payments": fetch(
            "payments",
            "SELECT id::text AS id, order_id::text AS order_id, status, amount, refunded_at FROM payments_payment "
            "WHERE order_id = ANY(%s::uuid[]) ORDER BY id",
            (order_ids,),
        ),
        "reservations": fetch(
            "inventory",
            "SELECT order_id::text AS order_id, status FROM inventory_reservation "
            "WHERE order_id = ANY(%s::uuid[]) ORDER BY order_id",
            (order_ids,),
        ),
        "stock": stock_of(sku),
        "messages": messages,
        "processed": sum(
            fetch(
                service,
                "SELECT count(*) AS n FROM service_kit_processedmessage WHERE message_id = ANY(%s::uuid[])",
                (message_ids,),
            )[0]["n"]
            for service in SAGA_SERVICES
        ),
    }


def test_relay_sending_already_sent_saga_messages_again_changes_nothing(buyer, make_product, figures):
    product = make_product(stock=6, price="4.00")
    sku = product["sku"]
    order_ids = [placed_ok(buyer, [(sku, 1)]) for _ in range(3)]
    order_ids.append(placed_ok(buyer, [(sku, 1)], DECLINED))
    order_ids.append(placed_ok(buyer, [(sku, 10)]))  # out of stock
    wait_terminal(order_ids, timeout=60)
    cancel = buyer.post(f"{ORDERS}{order_ids[0]}/cancel/")  # refund and restock
    assert cancel.status_code == 200, cancel.text
    check_invariants(order_ids, stock_in={sku: 6})
    before = saga_state(order_ids, sku)

    # A relay killed after publishing and before marking the row sent leaves it unsent: the next
    # sweep sends it again. Receipts are cleared too, so their return shows the copy was consumed (a reply
    # expects none: its copy acknowledges its request again).
    reset = {}
    for service in SAGA_SERVICES:
        reset[service] = fetch(
            service,
            "UPDATE service_kit_outboxmessage SET sent_at = NULL, acknowledged_at = NULL "
            "WHERE envelope->'payload'->>'order_id' = ANY(%s) AND type NOT LIKE '%%.receipt' RETURNING id",
            (order_ids,),
        )
    reset_at = time.monotonic()

    def all_sent_and_received() -> bool:
        return all(
            fetch(
                service,
                "SELECT count(*) AS n FROM service_kit_outboxmessage WHERE id = ANY(%s) "
                "AND (sent_at IS NULL OR (expects_receipt AND acknowledged_at IS NULL))",
                ([row["id"] for row in rows],),
            )[0]["n"]
            == 0
            for service, rows in reset.items()
        )

    wait_until(all_sent_and_received, timeout=60, interval=0.25, message="duplicates sent and received")
    received_after = round(time.monotonic() - reset_at, 2)
    check_invariants(order_ids, stock_in={sku: 6})
    after = saga_state(order_ids, sku)

    record(
        figures,
        "3_relay_duplicates",
        orders_placed=len(order_ids),
        outcomes=outcomes(orders_by_id(order_ids).values()),
        messages_sent_again={service: len(rows) for service, rows in reset.items()},
        seconds_until_every_duplicate_was_received=received_after,
    )
    assert sum(len(rows) for rows in reset.values()) >= 15
    assert after == before


def test_order_whose_transaction_fails_after_the_outbox_insert_stores_and_sends_nothing(buyer, make_product, figures):
    product = make_product(stock=4, price="2.00")
    sku = product["sku"]
    name = sql.Identifier(f"fault_{uuid.uuid4().hex[:12]}")
    # A deferred constraint trigger fails the COMMIT of any transaction that stored an outbox row
    # naming this product: the error comes after the insert, as late as it can.
    create = sql.SQL(
        """
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected fault at commit'; END $$;
        CREATE CONSTRAINT TRIGGER {name} AFTER INSERT ON service_kit_outboxmessage
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.envelope::text LIKE {pattern})
        EXECUTE FUNCTION {name}();
        """
    ).format(name=name, pattern=sql.Literal(f"%{sku}%"))
    drop = sql.SQL("DROP TRIGGER IF EXISTS {name} ON service_kit_outboxmessage; DROP FUNCTION IF EXISTS {name}();")
    try:
        superuser_execute("orders", create)
        failed = place(buyer, [(sku, 1)])
        time.sleep(3)  # the relay sweeps every second: time enough to send anything left behind
    finally:
        superuser_execute("orders", drop.format(name=name))

    assert failed.response is not None, failed.error
    assert_envelope(failed.response, failed.status, "server_error")
    assert failed.status in (500, 503)
    assert fetch("orders", "SELECT id FROM orders_order WHERE user_id = %s", (buyer.user["id"],)) == []
    assert fetch("orders", "SELECT id FROM service_kit_outboxmessage WHERE envelope::text LIKE %s", (f"%{sku}%",)) == []
    assert fetch("inventory", "SELECT id FROM inventory_reservationline WHERE product_id = %s", (sku,)) == []
    assert stock_of(sku) == {"on_hand": 4, "reserved": 0}
    # The same request once the fault is gone goes through the whole saga.
    order_id = placed_ok(buyer, [(sku, 1)])
    terminal = wait_terminal([order_id], timeout=60)
    check_invariants([order_id], stock_in={sku: 4})

    record(
        figures,
        "3_error_after_outbox_insert",
        orders_placed=2,
        failed_post_status=failed.status,
        orders_stored_by_the_failed_post=0,
        outcomes=outcomes(terminal.values()),
    )
    assert outcomes(terminal.values()) == {"confirmed": 1}


# 4. EVERY MESSAGE TWICE, AT ONCE


class DeliverTwice:
    """While it runs, sends every new saga message of the four databases twice more, the copies back to
    back, so the two worker processes of the receiving service take them at the same time."""

    def __init__(self):
        self.app = Celery("faults", broker=os.environ["REDIS_URL"])
        self.last = {
            service: fetch(service, "SELECT coalesce(max(id), 0) AS id FROM service_kit_outboxmessage")[0]["id"]
            for service in SERVICES
        }
        self.copied: dict[str, str] = {}  # message id: the service it went to
        self.replies: set[str] = set()  # those of them that are replies (acknowledged through their request)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sweep(self) -> None:
        for service in SERVICES:
            rows = fetch(
                service,
                "SELECT id, type, envelope FROM service_kit_outboxmessage "
                "WHERE id > %s AND type NOT LIKE '%%.receipt' ORDER BY id",
                (self.last[service],),
            )
            for row in rows:
                self.last[service] = row["id"]
                queue = row["type"].split(".", 1)[0]
                for _ in range(2):
                    self.app.send_task(row["type"], args=[row["envelope"]], queue=queue)
                self.copied[row["envelope"]["id"]] = queue
                if row["envelope"].get("in_reply_to"):
                    self.replies.add(row["envelope"]["id"])

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sweep()
            self._stop.wait(0.02)
        self._sweep()

    def __enter__(self) -> "DeliverTwice":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.app.close()


def test_every_saga_message_delivered_twice_at_once_takes_effect_once(make_buyers, make_product, figures):
    scarce = make_product(stock=8, price="9.00")
    plenty = make_product(stock=40, price="2.00")
    buyers = make_buyers(5)

    def plan(n: int):
        kind = n % 5
        if kind == 0:
            return [(scarce["sku"], 1)], VISA
        if kind == 1:
            return [(scarce["sku"], 1), (plenty["sku"], 2)], VISA
        if kind == 2:
            return [(plenty["sku"], 1)], DECLINED
        return [(plenty["sku"], kind - 2)], VISA

    stock_in = {scarce["sku"]: 8, plenty["sku"]: 40}
    with StockLows(list(stock_in)) as lows, DeliverTwice() as copies:
        flow = Flow(buyers, 5, plan).start().join(120)
        order_ids = flow.order_ids()
        assert len(order_ids) == 25
        terminal = wait_terminal(order_ids, timeout=SETTLE_AFTER_FAULT)
        # Customers cancel their confirmed single-item orders: refunds and restocks go twice as well.
        to_cancel = [
            result
            for result in flow.results
            if terminal[result.order_id]["status"] == "confirmed"
            and [line["quantity"] for line in result.response.json()["lines"]] == [2]
        ]
        for result in to_cancel:
            response = result.session.post(f"{ORDERS}{result.order_id}/cancel/")
            assert response.status_code == 200, response.text
        check_invariants(order_ids, stock_in=stock_in, timeout=SETTLE_AFTER_FAULT)
        wait_until(
            lambda: (
                fetch(
                    "orders",
                    "SELECT count(*) AS n FROM service_kit_outboxmessage "
                    "WHERE envelope->'payload'->>'order_id' = ANY(%s) "
                    "AND type NOT LIKE '%%.receipt' AND acknowledged_at IS NULL",
                    (order_ids,),
                )[0]["n"]
                == 0
            ),
            timeout=60,
            message="every message of the orders received",
        )
        time.sleep(0.5)  # a last sweep copies the last messages
    client = broker()
    wait_until(lambda: queues_drained(client), timeout=60, interval=0.5, message="every copy consumed")
    check_invariants(order_ids, stock_in=stock_in)
    lows.assert_never_negative()

    # Each copy that arrived was answered, duplicates included: with a receipt, or, a request the contract
    # answers with a reply, with its reply (sent once more for each duplicate). A reply is answered by nothing:
    # it acknowledges its request (above, every message received), and its copies were consumed (queues drained).
    answers: Counter = Counter()
    for service in SAGA_SERVICES:
        for row in fetch(
            service,
            "SELECT envelope->'payload'->>'message_id' AS id, count(*) AS n FROM service_kit_outboxmessage "
            "WHERE type LIKE '%%.receipt' AND envelope->'payload'->>'message_id' = ANY(%s) GROUP BY 1 "
            "UNION ALL SELECT envelope->>'in_reply_to', sum(attempts) FROM service_kit_outboxmessage "
            "WHERE envelope->>'in_reply_to' = ANY(%s) GROUP BY 1",
            (list(copies.copied), list(copies.copied)),
        ):
            answers[row["id"]] += row["n"]
    final = orders_by_id(order_ids)
    payments = charges(order_ids)
    record(
        figures,
        "4_every_message_twice",
        orders_placed=len(order_ids),
        customer_cancels=len(to_cancel),
        messages_copied=len(copies.copied),
        copies_sent=2 * len(copies.copied),
        messages_by_queue=dict(Counter(copies.copied.values())),
        fewest_answers_per_copied_message=min(answers.values(), default=0),
        outcomes=outcomes(final.values()),
        max_post_seconds=flow.max_seconds(),
    )
    assert len(copies.copied) >= 80
    assert len(copies.replies) >= 25  # each order's answer to its reservation, at least
    answered = [message_id for message_id in copies.copied if message_id not in copies.replies]
    assert all(answers[message_id] >= 3 for message_id in answered), "a copy was not consumed"
    assert all(len(found) <= 1 for found in payments.values()), payments
    refunded = [order_id for order_id, found in payments.items() if found == ["refunded"]]
    assert sorted(refunded) == sorted(result.order_id for result in to_cancel)
    assert outcomes(final.values()).get("cancelled:payment_declined") == 5


# 5. THE INVENTORY DATABASE DOWN


def test_inventory_database_down_answers_503_keeps_the_others_up_and_the_saga_resumes(
    make_buyers, make_product, make_session, figures
):
    outage = 35.0  # longer than a message's retries (1+2+4+8+16 s): it must wait, not be dead-lettered
    product = make_product(stock=20, price="6.00")
    sku = product["sku"]
    buyers = make_buyers(2)
    api = make_session()
    payments_worker = WORKERS["payments"]
    during: list[str] = []
    others: dict[str, int] = {}
    try:
        # Mid-saga when the database stops: reserved, their charges waiting for the payments worker.
        stack_ctl("stop", payments_worker)
        before = [placed_ok(buyer, [(sku, 1)]) for buyer in buyers for _ in range(2)]
        wait_until(
            lambda: {row["status"] for row in orders_by_id(before).values()} == {"reserved"},
            timeout=30,
            message="the first orders reserved",
        )
        stack_ctl("stop", PG_INVENTORY)
        down_at = time.monotonic()
        stack_ctl("start", payments_worker)  # charged and confirmed; their sales wait for the inventory database
        products = api.get(PRODUCTS)
        body = assert_envelope(products, 503, "server_error")
        assert body["errors"][0]["code"] == "service_unavailable", body
        inventory_health = api.get("/api/inventory/health/").status_code
        inventory_ready = api.get("/api/inventory/health/ready/").status_code
        inventory_live = api.get("/api/inventory/health/live/").status_code
        for service in ("users", "orders", "payments"):
            others[f"GET /api/{service}/health/"] = api.get(f"/api/{service}/health/").status_code
        others["GET /api/orders/"] = buyers[0].get(ORDERS).status_code
        others["GET /api/payments/"] = buyers[0].get("/api/payments/").status_code
        during = [placed_ok(buyer, [(sku, 1)]) for buyer in buyers for _ in range(3)]
        wait_until(
            lambda: {row["status"] for row in orders_by_id(before).values()} == {"confirmed"},
            timeout=30,
            message="the first orders confirmed without the inventory database",
        )
        time.sleep(max(0.0, down_at + outage - time.monotonic()))
        pending_at_end_of_outage = {row["status"] for row in orders_by_id(during).values()}
    finally:
        ensure_running(payments_worker)
        started_at = time.monotonic()
        stack_ctl("start", PG_INVENTORY, check=False)
        ensure_running(PG_INVENTORY)
    wait_until(lambda: api.get(PRODUCTS).status_code == 200, timeout=60, interval=0.1, message="inventory API back")
    api_back_after = round(time.monotonic() - started_at, 2)
    order_ids = before + during
    terminal, seconds = settle(order_ids, started_at)
    check_invariants(order_ids, stock_in={sku: 20})
    consistent_after = round(time.monotonic() - started_at, 2)

    dead_letters = fetch(
        "inventory",
        "SELECT count(*) AS n FROM service_kit_deadletter WHERE envelope->'payload'->>'order_id' = ANY(%s)",
        (order_ids,),
    )[0]["n"]
    record(
        figures,
        "5_inventory_database_down",
        orders_placed=len(order_ids),
        orders_mid_saga_at_the_stop=len(before),
        orders_placed_during_outage=len(during),
        outage_seconds=round(started_at - down_at, 1),
        inventory_products_status=products.status_code,
        inventory_health_status=inventory_health,
        inventory_ready_status=inventory_ready,
        inventory_live_status=inventory_live,
        other_services=others,
        seconds_to_inventory_api_back=api_back_after,
        seconds_to_all_terminal_after_database_start=seconds,
        seconds_to_all_consistent_after_database_start=consistent_after,
        dead_letters=dead_letters,
        outcomes=outcomes(terminal.values()),
    )
    assert (inventory_health, inventory_ready, inventory_live) == (503, 503, 200)
    assert set(others.values()) == {200}, others
    assert pending_at_end_of_outage == {"pending"}
    assert outcomes(terminal.values()) == {"confirmed": len(order_ids)}
    assert dead_letters == 0


# 6. A MESSAGE THAT ALWAYS FAILS


def admin_session(gateway_url: str, service: str, credentials: dict) -> requests.Session:
    """A browser-like session signed in to the platform as staff, with the service's admin open."""
    session = requests.Session()
    response = sign_in_session(session, gateway_url, credentials, f"/admin/{service}/")
    assert response.status_code == 302, response.text[:500]
    assert session.get(f"{gateway_url}/admin/{service}/", timeout=30).status_code == 200
    return session


def test_message_that_always_fails_is_dead_lettered_after_its_retries_then_replayed_from_the_admin(
    buyer, make_product, gateway_url, admin_credentials, figures
):
    product = make_product(stock=5, price="8.00")
    sku = product["sku"]
    name = f"fault_{uuid.uuid4().hex[:12]}"
    attempts_seq = sql.Identifier(f"{name}_attempts")
    # Every reservation of this product fails inside inventory.reserve's transaction, and counts itself
    # in a sequence (sequences are not rolled back). Other products are untouched.
    create = sql.SQL(
        """
        CREATE SEQUENCE {seq};
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
        BEGIN PERFORM nextval({seq_name}); RAISE EXCEPTION 'injected fault: reservation refused'; END $$;
        CREATE TRIGGER {name} BEFORE INSERT ON inventory_reservationline
        FOR EACH ROW WHEN (NEW.product_id = {sku}) EXECUTE FUNCTION {name}();
        """
    ).format(
        seq=attempts_seq,
        seq_name=sql.Literal(f"{name}_attempts"),
        name=sql.Identifier(name),
        sku=sql.Literal(sku),
    )
    drop_trigger = sql.SQL("DROP TRIGGER IF EXISTS {name} ON inventory_reservationline").format(
        name=sql.Identifier(name)
    )

    def attempts() -> int:
        [(last_value, is_called)] = superuser_execute(
            "inventory", sql.SQL("SELECT last_value, is_called FROM {seq}").format(seq=attempts_seq)
        )
        return last_value if is_called else 0

    def dead_letters() -> list[dict]:
        return fetch(
            "inventory",
            "SELECT id, message_id::text AS message_id, type, replayed_at FROM service_kit_deadletter "
            "WHERE envelope->'payload'->>'order_id' = %s ORDER BY id",
            (order_id,),
        )

    def reserve_request() -> dict:
        [row] = fetch(
            "orders",
            "SELECT message_id::text AS message_id, acknowledged_at, attempts AS deliveries "
            "FROM service_kit_outboxmessage "
            "WHERE type = 'inventory.reserve' AND envelope->'payload'->>'order_id' = %s",
            (order_id,),
        )
        return row

    try:
        superuser_execute("inventory", create)
        posted_at = time.monotonic()
        order_id = placed_ok(buyer, [(sku, 1)])
        wait_until(dead_letters, timeout=90, interval=0.25, message="the message dead-lettered")
        first_dead_after = round(time.monotonic() - posted_at, 1)

        # Each delivery of the message (the relay sends it again when no receipt came within REDELIVER_AFTER) is
        # tried MESSAGE_MAX_RETRIES times more, then dead-lettered; the dead letter's receipt stops the
        # sending.
        def retries_over() -> bool:
            request = reserve_request()
            return request["acknowledged_at"] and attempts() == ATTEMPTS_PER_DELIVERY * request["deliveries"]

        wait_until(retries_over, timeout=90, interval=0.25, message="every delivery dead-lettered")
        settled = attempts(), len(dead_letters()), reserve_request()["deliveries"]
        all_over_after = round(time.monotonic() - posted_at, 1)
        time.sleep(5)
        assert (attempts(), len(dead_letters()), reserve_request()["deliveries"]) == settled, "still retried"
        assert orders_by_id([order_id])[order_id]["status"] == "pending"
    finally:
        superuser_execute("inventory", drop_trigger)
        superuser_execute("inventory", sql.SQL("DROP FUNCTION IF EXISTS {name}()").format(name=sql.Identifier(name)))
        superuser_execute("inventory", sql.SQL("DROP SEQUENCE IF EXISTS {seq}").format(seq=attempts_seq))
    failed = dead_letters()
    assert {row["message_id"] for row in failed} == {reserve_request()["message_id"]}
    assert {row["type"] for row in failed} == {"inventory.reserve"}

    admin = admin_session(gateway_url, "inventory", admin_credentials)
    changelist = f"{gateway_url}/admin/inventory/service_kit/deadletter/"
    listed = admin.get(changelist, timeout=30)
    assert listed.status_code == 200 and failed[0]["message_id"] in listed.text
    replay = admin.post(
        changelist,
        data={
            "csrfmiddlewaretoken": admin.cookies["inventory_csrftoken"],
            "action": "replay",
            "index": "0",
            "_selected_action": [str(row["id"]) for row in failed],
        },
        headers={"Referer": changelist},
        timeout=30,
    )
    replayed_at = time.monotonic()
    assert replay.status_code == 200, replay.text[:500]
    assert f"{len(failed)} message(s) sent again." in replay.text
    admin.close()
    terminal = wait_terminal([order_id], timeout=60)
    confirmed_after = round(time.monotonic() - replayed_at, 2)
    check_invariants([order_id], stock_in={sku: 5})

    record(
        figures,
        "6_always_failing_message",
        orders_placed=1,
        deliveries=settled[2],
        attempts=settled[0],
        dead_letters=settled[1],
        attempts_per_delivery=ATTEMPTS_PER_DELIVERY,
        seconds_to_first_dead_letter=first_dead_after,
        seconds_until_every_delivery_was_dead_lettered=all_over_after,
        seconds_from_replay_to_terminal=confirmed_after,
        outcomes=outcomes(terminal.values()),
    )
    assert outcomes(terminal.values()) == {"confirmed": 1}
    assert all(row["replayed_at"] is not None for row in dead_letters())
    # The replay's receipt goes to orders, the producer: inventory's copy must not wait for one, or its
    # relay would send it again and again.
    waiting = fetch(
        "inventory",
        "SELECT count(*) AS n FROM service_kit_outboxmessage WHERE message_id = %s "
        "AND expects_receipt AND acknowledged_at IS NULL",
        (failed[0]["message_id"],),
    )
    assert waiting == [{"n": 0}]
    assert charges([order_id])[order_id] == ["succeeded"]


# 7. GUNICORN KILLED


def watch_health(session, killed_at: float) -> tuple[list[tuple[float, requests.Response]], list[str]]:
    """Poll /api/orders/health/ from a kill until it is 200 again after having been down, for 30 s at most:
    each answer with the seconds since the kill, and any request that got no answer."""
    answers: list[tuple[float, requests.Response]] = []
    failures: list[str] = []
    while time.monotonic() - killed_at < 30:
        try:
            response = session.get("/api/orders/health/", timeout=10)
        except requests.RequestException as exc:
            failures.append(repr(exc))
            continue
        answers.append((time.monotonic() - killed_at, response))
        if response.status_code == 200 and any(answer.status_code != 200 for _, answer in answers):
            break
        time.sleep(0.02)
    return answers, failures


def outage_figures(answers: list[tuple[float, requests.Response]]) -> dict:
    bad_gateway = [at for at, response in answers if response.status_code == 502]
    return {
        "answers": dict(Counter(response.status_code for _, response in answers)),
        "first_502_after_seconds": round(bad_gateway[0], 2) if bad_gateway else None,
        "last_502_after_seconds": round(bad_gateway[-1], 2) if bad_gateway else None,
        "healthy_again_after_seconds": round(answers[-1][0], 2) if answers else None,
    }


def assert_down_then_back(answers: list, failures: list[str]) -> None:
    """Every answer was 200 or nginx's 502 envelope, and the last one 200, within 15 s."""
    assert not failures, failures
    assert {response.status_code for _, response in answers} <= {200, 502}, outage_figures(answers)
    for _, response in answers:
        if response.status_code == 502:
            body = assert_envelope(response, 502, "server_error")
            assert body["errors"][0]["code"] == "bad_gateway"
    assert answers and answers[-1][1].status_code == 200, outage_figures(answers)
    assert answers[-1][0] < 15, f"healthy again only after {answers[-1][0]:.1f} s"


def test_killed_gunicorn_answers_the_502_envelope_until_supervisord_has_restarted_it(make_session, figures):
    session = make_session()
    try:
        # The master alone: its workers serve on until they notice, then the port is closed until the
        # new master can bind it, so the 502 window may be short.
        pid_before = process_pid(ORDERS_WEB)
        stack_ctl("signal", "KILL", ORDERS_WEB)
        master_answers, master_failures = watch_health(session, time.monotonic())
        wait_until(lambda: process_pid(ORDERS_WEB) not in {None, pid_before}, timeout=30, message="restarted")
        # Master and workers at once (supervisord runs each program in its own process group): the
        # service is down until a new master has booted.
        pid = process_pid(ORDERS_WEB)
        assert os.getpgid(pid) == pid
        os.killpg(pid, signal.SIGKILL)
        group_answers, group_failures = watch_health(session, time.monotonic())
        wait_until(lambda: process_pid(ORDERS_WEB) not in {None, pid}, timeout=30, message="restarted")
    finally:
        ensure_running(ORDERS_WEB)

    record(
        figures,
        "7_gunicorn_killed",
        master_killed=outage_figures(master_answers),
        master_and_workers_killed=outage_figures(group_answers),
    )
    assert_down_then_back(master_answers, master_failures)
    assert_down_then_back(group_answers, group_failures)
    assert any(response.status_code == 502 for _, response in group_answers), "no 502 while gunicorn was down"


# 8. FLOWER: ITS LIST OF WORKERS MENDS ITSELF


def flower_inspected_since(moment: float, credentials: tuple[str, str]) -> set[str]:
    """The services whose worker answered one of Flower's inspections after `moment` (epoch seconds).

    Plain GET, no `refresh`: what an operator's page shows without asking Flower for anything."""
    response = requests.get(f"{gateway()}/flower/api/workers", auth=credentials, timeout=30)
    assert response.status_code == 200, response.text
    return {
        name.split("@")[0]
        for name, info in response.json().items()
        if "stats" in info and info.get("timestamp", 0) > moment
    }


def test_flower_lists_every_worker_after_starting_before_them_and_after_redis_restarts(flower_credentials, figures):
    workers = list(WORKERS.values())
    every = set(SAGA_SERVICES)
    try:
        stack_ctl("stop", *workers)
        stack_ctl("restart", "app:flower")  # Flower's own first inspection finds no worker
        workers_started = time.time()
        stack_ctl("start", *workers)
        wait_until(
            lambda: flower_inspected_since(workers_started, flower_credentials) >= every,
            timeout=60,
            interval=1,
            message="Flower lists the workers that started after it",
        )
        after_workers = round(time.time() - workers_started, 1)
        pids = {name: process_pid(name) for name in workers}
        stack_ctl("restart", REDIS)
        redis_back = time.time()
        wait_until(
            lambda: flower_inspected_since(redis_back, flower_credentials) >= every,
            timeout=100,
            interval=1,
            message="Flower lists every worker again after Redis restarted",
        )
        after_redis = round(time.time() - redis_back, 1)
    finally:
        ensure_running(REDIS, "app:flower", *workers)

    record(
        figures,
        "8_flower_lists_workers",
        seconds_after_workers_started=after_workers,
        seconds_after_redis_restarted=after_redis,
    )
    # The workers rode out the broker's restart: none exited and was started again by supervisord.
    assert {name: process_pid(name) for name in workers} == pids
