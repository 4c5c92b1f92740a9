"""One order is one trace across the three services (service_kit/tracing.py): the POST, then each message's
publish and run, parent to child, and its receipt back at the producer (a request is acknowledged by its
reply, which needs no receipt either),
read from the OTLP JSON files the native stack writes (var/<stack>/traces), and each log line of the work
carries the trace id."""

import json
import os
import secrets
from pathlib import Path

from .helpers import wait_until
from .invariants import wait_terminal

VAR = Path(os.environ.get("STACK_VAR_DIR", "var/test"))
# The saga's hops, in order: who publishes which message, who runs it.
HOPS = [
    ("orders", "inventory.reserve", "inventory"),
    ("inventory", "orders.stock_reserved", "orders"),
    ("orders", "payments.charge", "payments"),
    ("payments", "orders.payment_succeeded", "orders"),
    ("orders", "inventory.commit", "inventory"),
]
# The requests the contract answers with a reply, and the replies: the reply (a run of the same trace) is the
# request's receipt, and a lost reply comes again when its request is sent again, so neither has a receipt.
ANSWERED = {"inventory.reserve", "orders.stock_reserved", "payments.charge", "orders.payment_succeeded"}


def spans_of_trace(trace_id: str) -> list[dict]:
    """Every span of one trace written so far, each with its service's name."""
    found = []
    for path in (VAR / "traces").glob("*.jsonl*"):
        for line in path.read_text().splitlines():
            for resource in json.loads(line).get("resourceSpans", []):
                attributes = {a["key"]: a["value"].get("stringValue") for a in resource["resource"]["attributes"]}
                for scope in resource["scopeSpans"]:
                    found += [
                        {**span, "service": attributes["service.name"]}
                        for span in scope["spans"]
                        if span["traceId"] == trace_id
                    ]
    return found


def test_one_order_is_one_trace_from_the_post_through_every_hop_of_the_saga(buyer, make_product):
    # The client starts the trace (W3C traceparent through nginx), so the test knows its id.
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    product = make_product(stock=5)
    response = buyer.post(
        "/api/orders/",
        json={"lines": [{"sku": product["sku"], "quantity": 1}], "payment_method": "pm_card_visa"},
        headers={"traceparent": f"00-{trace_id}-{parent_id}-01"},
    )
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]
    wait_terminal([order_id], timeout=60)

    def complete() -> list[dict] | None:
        spans = spans_of_trace(trace_id)
        names = {(span["service"], span["name"]) for span in spans}
        wanted = {("orders", "POST api/orders/")}
        wanted |= {(runner, f"run/{message}") for _, message, runner in HOPS}
        wanted |= {(publisher, f"apply_async/{message}") for publisher, message, _ in HOPS}
        receipts = [span for span in spans if span["name"] == "receipt"]
        return spans if wanted <= names and len(receipts) >= len(HOPS) - len(ANSWERED) else None

    # Each process (the web, the relays, the workers) writes its spans in batches every few seconds.
    spans = wait_until(complete, timeout=30, interval=1, message="every hop's spans written")
    by_id = {span["spanId"]: span for span in spans}

    [post] = [s for s in spans if s["service"] == "orders" and s["name"] == "POST api/orders/"]
    assert post["parentSpanId"] == parent_id
    for publisher, message, runner in HOPS:
        [run] = [s for s in spans if s["service"] == runner and s["name"] == f"run/{message}"]
        publish = by_id[run["parentSpanId"]]
        assert (publish["service"], publish["name"]) == (publisher, f"apply_async/{message}")
        # The consumer's receipt, though it travelled in a batch, is a span of this trace at the producer.
        receipts = [s for s in spans if s["name"] == "receipt" and s.get("parentSpanId") == run["spanId"]]
        assert [receipt["service"] for receipt in receipts] == ([] if message in ANSWERED else [publisher])
    assert {span["service"] for span in spans} == {"orders", "inventory", "payments"}

    def logged(service: str) -> bool:
        log = (VAR / "log" / f"{service}-worker.log").read_text()
        return any(json.loads(line).get("trace_id") == trace_id for line in log.splitlines() if line.startswith("{"))

    assert wait_until(lambda: logged("inventory") or None, timeout=10, message="a log line with the trace id")
