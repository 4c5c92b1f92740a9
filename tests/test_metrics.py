"""Metrics and Prometheus on the real stack: the figures move by exactly what happened, every process is
scraped, and neither the metrics nor Prometheus are open to the public through nginx.

The metrics are read from each process's own endpoint on its private port (the ports of the process list,
stack/processes.py), as Prometheus reads them; Prometheus itself through the gateway, signed in as staff.
"""

import os
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import requests
from celery import Celery
from prometheus_client.parser import text_string_to_metric_families

from stack.config import StackConfig
from stack.processes import all_processes

from .helpers import sign_in_session, wait_until
from .invariants import fetch, wait_terminal
from .test_saga import DECLINED, VISA, placed

SCRAPED = {process.name: process for process in all_processes(StackConfig.from_env()) if process.metrics_port}


def scrape(process: str) -> dict[tuple, float]:
    """A process's samples by (name, sorted labels), from its own metrics endpoint."""
    target = SCRAPED[process]
    response = requests.get(f"http://127.0.0.1:{target.metrics_port}{target.metrics_path}", timeout=10)
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def staff_session(gateway_url: str, admin_credentials: dict) -> requests.Session:
    session = requests.Session()
    answer = sign_in_session(session, gateway_url, admin_credentials, next_path="/prometheus/")
    assert answer.status_code == 302, answer.text
    return session


def test_metrics_endpoints_are_not_routed_by_the_gateway(api):
    for path in ("/metrics", "/flower/metrics", "/api/orders/metrics", "/metrics/", "/stub_status"):
        assert api.get(path).status_code == 404, path
    # ... while each process serves them on its private port (a worker that has handled nothing yet has
    # no sample yet).
    for process in SCRAPED:
        scrape(process)


def test_prometheus_refuses_an_anonymous_request_and_a_person_not_staff(gateway_url, buyer, admin_credentials):
    for path in ("/prometheus/", "/prometheus/api/v1/targets", "/prometheus/api/v1/query?query=up"):
        anonymous = requests.get(f"{gateway_url}{path}", allow_redirects=False, timeout=10)
        assert anonymous.status_code == 302, (path, anonymous.status_code)
        location = urlsplit(anonymous.headers["Location"])
        assert (location.path, location.query) == ("/api/users/session/renew/", f"next={urlsplit(path).path}")
        assert "prometheus" not in anonymous.text.lower().replace("/prometheus/", "")
    person = requests.Session()
    answer = sign_in_session(person, gateway_url, buyer.user, next_path="/")
    assert answer.status_code == 302, answer.text
    refused = person.get(f"{gateway_url}/prometheus/api/v1/targets", allow_redirects=False, timeout=10)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "permission_denied"
    staff = staff_session(gateway_url, admin_credentials)
    assert staff.get(f"{gateway_url}/prometheus/api/v1/targets", timeout=10).json()["status"] == "success"


def test_prometheus_scrapes_every_process_of_the_list_and_every_target_is_up(gateway_url, admin_credentials):
    staff = staff_session(gateway_url, admin_credentials)
    expected = set(SCRAPED) | {"prometheus"}

    def targets() -> dict[str, dict]:
        answer = staff.get(f"{gateway_url}/prometheus/api/v1/targets", timeout=10).json()
        return {target["labels"]["process"]: target for target in answer["data"]["activeTargets"]}

    def all_up():
        found = targets()
        return set(found) == expected and all(target["health"] == "up" for target in found.values())

    # Every target is scraped every 10 s.
    wait_until(all_up, timeout=60, interval=1, message=f"every target up: {targets()}")
    found = targets()
    assert {name: target["labels"].get("service") for name, target in found.items() if name in SCRAPED} == {
        name: process.service for name, process in SCRAPED.items()
    }
    rules = staff.get(f"{gateway_url}/prometheus/api/v1/rules", timeout=10).json()["data"]["groups"]
    assert {rule["name"] for group in rules for rule in group["rules"] if rule["type"] == "alerting"} >= {
        "SagaSlow", "OrderPastItsBound", "OutboxLagging", "DeadLettersOpen", "ProcessDown", "QueueGrowing",
    }  # fmt: skip


def send_contract_breaking_reserve() -> str:
    """A reserve request whose payload the contract refuses: inventory dead-letters it at once."""
    message_id = str(uuid.uuid4())
    envelope = {
        "id": message_id,
        "type": "inventory.reserve",
        "producer": "orders",
        "correlation_id": f"metrics-{message_id}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "version": 1,
        "payload": {"order_id": str(uuid.uuid4()), "lines": "not a list"},
    }
    app = Celery("metrics-test", broker=os.environ["REDIS_URL"])
    try:
        app.send_task("inventory.reserve", args=[envelope], queue="inventory", task_id=message_id)
    finally:
        app.close()
    return message_id


@pytest.fixture
def closes_dead_letters():
    """The dead letters a test makes on purpose, closed afterwards as an operator would close them."""
    ids: list[str] = []
    yield ids
    for message_id in ids:
        fetch(
            "inventory",
            "UPDATE service_kit_deadletter SET replayed_at = now(), resolution = 'closed by the metrics test' "
            "WHERE message_id = %s RETURNING id",
            (message_id,),
        )


def quiet() -> bool:
    """No order of an earlier test still in flight: its messages would move the counters too."""
    return value(scrape("orders-web"), "shop_orders_in_flight", status="pending") == 0 and (
        value(scrape("orders-web"), "shop_orders_in_flight", status="reserved") == 0
    )


POST_201 = {"view": "orders:order-list", "method": "POST", "status": "201"}
# (process, metric, labels): what placing two orders that confirm, one declined and one dead-lettered
# message change, and by how much.
EXPECTED = [
    ("orders-web", "shop_orders_total", {"event": "placed", "reason": ""}, 3),
    ("orders-web", "http_request_duration_seconds_count", POST_201, 3),
    ("orders-worker", "shop_orders_total", {"event": "confirmed", "reason": ""}, 2),
    ("orders-worker", "shop_orders_total", {"event": "cancelled", "reason": "payment_declined"}, 1),
    ("orders-worker", "shop_order_settle_seconds_count", {"status": "confirmed"}, 2),
    ("orders-worker", "shop_order_settle_seconds_count", {"status": "cancelled"}, 1),
    ("orders-worker", "messages_consumed_total", {"type": "orders.stock_reserved", "outcome": "processed"}, 3),
    ("orders-worker", "messages_consumed_total", {"type": "orders.payment_succeeded", "outcome": "processed"}, 2),
    ("orders-worker", "messages_consumed_total", {"type": "orders.payment_declined", "outcome": "processed"}, 1),
    ("payments-worker", "shop_payments_total", {"outcome": "succeeded"}, 2),
    ("payments-worker", "shop_payments_total", {"outcome": "declined"}, 1),
    ("payments-worker", "message_hop_seconds_count", {"type": "payments.charge"}, 3),
    ("inventory-worker", "messages_consumed_total", {"type": "inventory.reserve", "outcome": "processed"}, 3),
    ("inventory-worker", "messages_consumed_total", {"type": "inventory.reserve", "outcome": "dead_lettered"}, 1),
    ("inventory-worker", "messages_consumed_total", {"type": "inventory.commit", "outcome": "processed"}, 2),
    ("inventory-worker", "messages_consumed_total", {"type": "inventory.release", "outcome": "processed"}, 1),
    ("inventory-web", "dead_letters_open", {}, 1),
]  # fmt: skip


def test_metrics_move_by_exactly_what_happened(buyer, make_product, closes_dead_letters):
    product = make_product(stock=10)
    wait_until(quiet, timeout=60, interval=1, message="no order of an earlier test in flight")
    processes = {process for process, *_ in EXPECTED}
    before = {process: scrape(process) for process in processes}
    queries_before = sum(v for (name, _), v in before["orders-web"].items() if name == "db_queries_total")

    orders = [placed(buyer, [(product["sku"], 1)], VISA) for _ in range(2)]
    orders.append(placed(buyer, [(product["sku"], 1)], DECLINED))
    closes_dead_letters.append(send_contract_breaking_reserve())
    wait_terminal([order["id"] for order in orders], timeout=60)

    def changes() -> list[tuple]:
        now = {process: scrape(process) for process in processes}
        return [
            (process, name, labels, value(now[process], name, **labels) - value(before[process], name, **labels), want)
            for process, name, labels, want in EXPECTED
        ]

    # Counters move after their transaction commits, moments after the order is seen terminal.
    wait_until(lambda: all(got >= want for *_, got, want in changes()), timeout=30, interval=0.5, message="counters")
    time.sleep(1)  # nothing more comes
    assert [change for change in changes() if change[3] != change[4]] == []

    after = scrape("orders-web")
    assert sum(v for (name, _), v in after.items() if name == "db_queries_total") > queries_before
    assert value(after, "shop_orders_in_flight", status="pending") == 0
    inventory = scrape("inventory-web")
    assert value(inventory, "shop_reservations_held") >= 0
    assert ("queue_messages", (("queue", "inventory"),)) in inventory
    assert value(inventory, "outbox_unsent_messages") >= 0
    # A hop and a settle time are real durations: positive, below the wait of the test.
    payments = scrape("payments-worker")
    assert 0 < value(payments, "message_hop_seconds_sum", type="payments.charge") < 3 * 60


def test_exporters_report_redis_every_postgresql_server_and_nginx():
    assert value(scrape("redis-exporter"), "redis_up") == 1
    assert value(scrape("nginx-exporter"), "nginx_up") == 1
    postgres = scrape("postgres-exporter")
    databases = {
        dict(labels).get("datname") for (name, labels) in postgres if name.startswith("pg_stat_database_xact_commit")
    }
    assert {"users", "inventory", "orders", "payments"} <= databases
