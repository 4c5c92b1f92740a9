"""The saga through six injected faults at half load: how long the platform takes to catch up, and what it loses.

Orders go in an open loop at the half-load rate (half the max sustainable) while six faults hit the stack,
`fault_gap_s` apart: the inventory worker and the payments worker SIGKILLed, Redis stopped for
`redis_down_s`, the orders relay SIGKILLed, payments' PostgreSQL stopped for `database_down_s`, and
orders-web's gunicorn master SIGKILLed. supervisord restarts what was killed; what was stopped is started
again. The load goes on until the last fault is over. Then, bounded by the drain, every order answered 201 must turn
terminal and the invariants of tests/invariants.py (the fault tests' own) must hold. Reported:
- `last_terminal_after_last_fault_s`: from the end of the last fault to the last order turning terminal;
- `lost`: orders answered 201 that were not terminal when the drain ended; `violations`: invariants broken,
  any faulted process not running again, and orders-web not answering again;
- `sent_again`: copies the relay's redelivery or the saga driver sent, by message type (bench/hops.py);
  with receipts that merely wait in a queue, this is what a backlog would be fed; `publish_failed`: the
  extra attempts of messages whose publish failed (written while Redis was down), apart: no copy of theirs
  had reached the broker (one that failed and was also sent again later counts here);
- `queue_peak`: the longest the queues got (sampled each second, through the faults);
- POST statuses and latencies: a POST while orders-web restarts may fail, and is counted, not hidden.

It runs last: it breaks the connections other probes hold.
"""

import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import redis
import requests

from . import hops
from .loadgen import open_loop, wall
from .probes import QUEUES
from .saga import TERMINAL_SQL, Context, _query
from .scenarios import OrderMaker, refresh_tokens
from .stats import latency_summary
from .target import Target, stack


@dataclass
class Fault:
    name: str
    inject: Callable[[], None]  # blocking: returns when the fault is over (the process killed, or started again)


def _kill(target: Target, process: str) -> Callable[[], None]:
    def inject():
        os.kill(target.supervised()[process], signal.SIGKILL)

    return inject


def _stopped_for(target: Target, process: str, seconds: float) -> Callable[[], None]:
    def inject():
        stack("ctl", "stop", process, env=target.stack_env(), capture=True)
        time.sleep(seconds)
        stack("ctl", "start", process, env=target.stack_env(), capture=True)

    return inject


def six_faults(target: Target, settings) -> list[Fault]:
    return [
        Fault("inventory worker SIGKILLed", _kill(target, "inventory-worker")),
        Fault("payments worker SIGKILLed", _kill(target, "payments-worker")),
        Fault(f"Redis stopped {settings.redis_down_s:g} s", _stopped_for(target, "infra:redis", settings.redis_down_s)),
        Fault("orders relay SIGKILLed", _kill(target, "orders-relay")),
        Fault(
            f"payments' PostgreSQL stopped {settings.database_down_s:g} s",
            _stopped_for(target, "infra:pg-payments", settings.database_down_s),
        ),
        Fault("orders-web's gunicorn master SIGKILLed", _kill(target, "orders-web")),
    ]


def queue_lengths(target: Target) -> int | None:
    """Messages in the services' queues, or None while Redis is down."""
    try:
        client = redis.Redis.from_url(target.redis_url, socket_timeout=1, socket_connect_timeout=1)
        with contextlib.closing(client):
            return sum(int(client.llen(queue)) for queue in QUEUES)
    except redis.RedisError:
        return None


def invariants_broken(target: Target, order_ids: list[str]) -> list[str]:
    """tests/invariants.py's checks over these orders (and every product, and every outbox)."""
    for service, url in target.database_urls.items():
        os.environ.setdefault(f"{service.upper()}_DATABASE_URL", url)
    from tests.invariants import violations

    return violations(order_ids)


# What the faults stop or kill: supervisord's names, each of which must be running again by the end.
FAULTED = ("inventory-worker", "payments-worker", "redis", "orders-relay", "pg-payments", "orders-web")


def not_running(target: Target) -> list[str]:
    """Each faulted process running again, and the killed web answering through the gateway: supervisord
    counts a gunicorn running before it has bound its port (the killed master's workers may still hold it)."""
    running = target.supervised()
    problems = [f"{name} is not running again" for name in FAULTED if name not in running]
    try:
        answered = requests.get(f"{target.gateway}/api/orders/health/live/", timeout=5).status_code
    except requests.RequestException as exc:
        answered = repr(exc)
    if answered != 200:
        problems.append(f"orders-web does not answer again: {answered}")
    return problems


async def through_faults(ctx: Context, *, rate: float) -> dict:
    s, target = ctx.settings, ctx.target
    faults = six_faults(target, s)
    duration = s.fault_lead_s + s.fault_gap_s * (len(faults) - 1)
    prefix = f"bench-{ctx.run_tag}-faults"
    await asyncio.to_thread(refresh_tokens, target.gateway, ctx.buyers)
    maker = OrderMaker(
        gateway=target.gateway, buyers=ctx.buyers, skus=ctx.skus, prefix=prefix, hot=False, seed=7,
        declined_share=s.declined_share,
    )  # fmt: skip
    timeline: list[dict] = []
    peak = {"queued": 0}
    stop, faults_over = asyncio.Event(), asyncio.Event()

    async def sampler():
        while not stop.is_set():
            queued = await asyncio.to_thread(queue_lengths, target)
            if queued is not None:
                peak["queued"] = max(peak["queued"], queued)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def injector(started: float):
        for i, fault in enumerate(faults):
            await asyncio.sleep(max(0.0, started + s.fault_lead_s + i * s.fault_gap_s - time.monotonic()))
            begun = time.monotonic()
            await asyncio.to_thread(fault.inject)
            timeline.append({"fault": fault.name, "at_s": round(begun - started, 1), "end": time.monotonic()})
        faults_over.set()

    sampling = asyncio.create_task(sampler())
    started = time.monotonic()
    injecting = asyncio.create_task(injector(started))
    # The load lasts until the last fault is over (a stop and a start take longer than the outage itself:
    # the schedule's bound allows for it).
    bound = duration + s.fault_gap_s + s.redis_down_s + s.database_down_s + 60
    shots = await open_loop(ctx.session, rate=rate, duration_s=bound, make_request=maker, parse=True, until=faults_over)
    await injecting
    last_fault_end = timeline[-1]["end"]

    # Drain: every order placed turns terminal and the invariants hold, or the bound.
    placed = [x for x in shots if x.status == 201]
    order_ids = [x.body["id"] for x in placed if isinstance(x.body, dict) and "id" in x.body]
    deadline = time.monotonic() + s.fault_drain_s
    while True:
        rows = await asyncio.to_thread(_query, target, TERMINAL_SQL, (prefix + "-%",))
        late = time.monotonic() > deadline
        if late or all(at is not None for *_, at in rows):
            problems = await asyncio.to_thread(lambda: not_running(target) + invariants_broken(target, order_ids))
            if late or not problems:
                break
        await asyncio.sleep(1.0)
    stop.set()
    await sampling

    terminal = {tag: at.timestamp() for tag, _, _, at in rows if at is not None}
    last_terminal = max(terminal.values(), default=None)
    terminal_ms = [(terminal[x.tag] - wall(x.intended)) * 1000 for x in placed if x.tag in terminal]
    hop_figures = await asyncio.to_thread(hops.collect, target, prefix + "-")
    sent_again = {kind: info["sent_again"] for kind, info in hop_figures.items() if info.get("sent_again")}
    publish_failed = {kind: info["publish_failed"] for kind, info in hop_figures.items() if info.get("publish_failed")}
    return {
        "offered_orders_per_s": rate,
        "load_s": round(last_fault_end - started, 1),
        "faults": [
            {"fault": f["fault"], "at_s": f["at_s"], "lasted_s": round(f["end"] - started - f["at_s"], 1)}
            for f in timeline
        ],
        "orders_offered": len(shots),
        "orders_accepted": len(placed),
        "post_statuses": dict(Counter(str(x.status) for x in shots)),
        "post_ms": latency_summary([x.latency_ms for x in shots]),
        "terminal_ms": latency_summary(terminal_ms),
        "last_terminal_after_last_fault_s": (
            round(last_terminal - wall(last_fault_end), 1) if last_terminal is not None else None
        ),
        "lost": len(placed) - sum(1 for x in placed if x.tag in terminal),
        "violation_count": len(problems),
        "violations": problems[:20],
        "sent_again": sent_again,
        "sent_again_total": sum(sent_again.values()),
        "publish_failed": publish_failed,
        "publish_failed_total": sum(publish_failed.values()),
        "queue_peak": peak["queued"],
    }
