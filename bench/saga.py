"""Saga benchmark: place orders through nginx on a private stack and measure the platform.

Figures: POST /api/orders/ latency, time from POST to `confirmed` (from the orders database's
status history, so polling does not blur it), throughput, and the memory of every process.
Bounded: a fixed number of orders, a deadline for the saga to settle; the stack stops at the end.

    make bench                      # ORDERS=200 BUYERS=20 CONCURRENCY=8 by default
    ORDERS=500 make bench
"""

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
ORDERS = int(os.environ.get("ORDERS", "200"))
BUYERS = int(os.environ.get("BUYERS", "20"))
CONCURRENCY = int(os.environ.get("CONCURRENCY", "8"))
SETTLE_SECONDS = 180


def stack(*args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "stack", *args], cwd=ROOT, check=True, text=True, capture_output=capture
    )
    return result.stdout if capture else ""


def stack_env() -> dict[str, str]:
    env = {}
    for line in stack("env", capture=True).splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value.strip("'")
    return env


def post(session: requests.Session, url: str, **kwargs) -> requests.Response:
    """POST, waiting out nginx's rate limit on the auth endpoints."""
    for _ in range(120):
        response = session.post(url, timeout=30, **kwargs)
        if response.status_code != 429:
            return response
        time.sleep(0.25)
    return response


def token(gateway: str, email: str, password: str) -> str:
    response = post(requests.Session(), f"{gateway}/api/users/token/", json={"email": email, "password": password})
    response.raise_for_status()
    return response.json()["access"]


def buyer(gateway: str) -> requests.Session:
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    password = "Bench pass " + uuid.uuid4().hex[::-1]
    post(requests.Session(), f"{gateway}/api/users/register/", json={"email": email, "password": password})
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token(gateway, email, password)}"
    return session


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "median": round(statistics.median(values), 1),
        "p95": round(percentile(values, 0.95), 1),
        "max": round(max(values), 1),
    }


def memory_by_process() -> dict[str, int]:
    """Resident memory (MiB) of each supervised process and its children."""
    found = {}
    for line in stack("ctl", "status", capture=True).splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[1] == "RUNNING":
            pid = int(parts[3].rstrip(","))
            pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
            kib = 0
            for each in pids:
                for row in Path(f"/proc/{each}/status").read_text().splitlines():
                    if row.startswith("VmRSS:"):
                        kib += int(row.split()[1])
            found[parts[0].split(":")[-1]] = kib // 1024
    return found


def main() -> None:
    os.environ.setdefault("VAR_DIR", "var/bench")
    os.environ.setdefault("PORT_BASE", "24000")
    os.environ.setdefault("GATEWAY_PORT", "24080")
    os.environ.setdefault("ORDERS_RATE", "1000/min")
    stack("up", "--detach")
    try:
        run()
    finally:
        stack("down")


def run() -> None:
    env = stack_env()
    gateway = env["GATEWAY_URL"]
    staff = requests.Session()
    staff.headers["Authorization"] = f"Bearer {token(gateway, env['ADMIN_EMAIL'], env['ADMIN_PASSWORD'])}"
    sku = f"BENCH-{uuid.uuid4().hex[:8].upper()}"
    staff.post(
        f"{gateway}/api/inventory/products/",
        json={"sku": sku, "name": "Bench item", "price": "3.50", "stock": ORDERS * 2},
        timeout=30,
    ).raise_for_status()
    buyers = [buyer(gateway) for _ in range(BUYERS)]

    def place(index: int) -> tuple[str, float]:
        started = time.perf_counter()
        response = buyers[index % BUYERS].post(
            f"{gateway}/api/orders/",
            json={"lines": [{"sku": sku, "quantity": 1}], "payment_method": "pm_card_visa"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["id"], (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        placed = list(pool.map(place, range(ORDERS)))
    placing_seconds = time.perf_counter() - started
    ids = [order_id for order_id, _ in placed]

    query = """
        SELECT o.status, EXTRACT(EPOCH FROM (h.occurred_at - o.created_at)) * 1000
        FROM orders_order o LEFT JOIN orders_orderstatuschange h ON h.order_id = o.id AND h.status = o.status
        WHERE o.id = ANY(%s::uuid[])
    """
    deadline = time.monotonic() + SETTLE_SECONDS
    with psycopg.connect(env["ORDERS_DATABASE_URL"], autocommit=True) as conn:
        while True:
            rows = conn.execute(query, (ids,)).fetchall()
            if all(status in ("confirmed", "cancelled") for status, _ in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    settled_seconds = time.perf_counter() - started
    statuses = {status: sum(1 for s, _ in rows if s == status) for status in {s for s, _ in rows}}
    to_confirmed = [float(ms) for status, ms in rows if status == "confirmed" and ms is not None]
    results = {
        "orders": ORDERS,
        "buyers": BUYERS,
        "concurrency": CONCURRENCY,
        "statuses": statuses,
        "post_latency_ms": summary([ms for _, ms in placed]),
        "post_to_confirmed_ms": summary(to_confirmed),
        "orders_per_second_placed": round(ORDERS / placing_seconds, 1),
        "orders_per_second_settled": round(ORDERS / settled_seconds, 1),
        "memory_mib": memory_by_process(),
    }
    results["memory_mib_total"] = sum(results["memory_mib"].values())
    out = ROOT / "var" / "bench-results.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
