"""The order saga under open-loop load, in steps of offered rate, and the rule that reads them.

Each step offers orders at a fixed rate for a warm-up and then a steady window, waits (bounded) for
the step's orders to settle, and measures only the orders due in the steady window. Between two
steps the platform drains, so a step does not inherit the previous one's backlog.

A step is SUSTAINABLE when all of these hold (the rule the results state as `rule`):
  1. answers: at most 1 % of the steady window's POSTs fail (non-201 or no answer);
  2. throughput: orders reaching a terminal state (confirmed or cancelled) during the steady window
     are at least 90 % of those offered in it, less one order;
  3. bounded backlog: orders in flight (placed, not yet terminal) grow by at most 10 % of the offered
     orders over the steady window, and every order of the step settles within the drain bound;
  4. flat p99: the p99 of POST latency and of POST -> terminal are each at most
     max(3 x, +500 ms over) the p99 of the scenario's first sustainable (lowest-rate) step.
The MAX SUSTAINABLE THROUGHPUT is the highest offered rate such that it and every lower step
measured were sustainable. Stepping stops after two saturated steps; when even the first rate
saturates, the next step offers half of it; when a rate saturates above a sustainable one, the next step
offers the rate halfway between them, once (`halfway`), so a gain that falls between two rates of the
ladder (20 and 40) is seen.
"""

import asyncio
import contextlib
import os
import time
from collections import Counter
from dataclasses import dataclass

import psycopg

from . import hops
from .loadgen import open_loop, wall
from .probes import Probe, delta, per_order
from .scenarios import OrderMaker, refresh_tokens
from .settings import Settings
from .stats import latency_summary, slope
from .target import Target

RULE = (
    "sustainable = <=1% failed POSTs; terminal orders in the steady window >= 90% of offered (less one); "
    "in-flight orders grow by <= 10% of offered and all settle within the drain bound; "
    "POST p99 and POST->terminal p99 <= "
    "max(3x, +500 ms) of the first sustainable step's. Max sustainable = highest offered rate with it and every "
    "lower step sustainable."
)

TERMINAL_SQL = """
    SELECT o.correlation_id, o.status, o.cancel_reason,
           min(h.occurred_at) FILTER (WHERE h.status IN ('confirmed', 'cancelled'))
    FROM orders_order o LEFT JOIN orders_orderstatuschange h ON h.order_id = o.id
    WHERE o.correlation_id LIKE %s GROUP BY o.id
"""
PENDING_SQL = (
    "SELECT count(*) FROM orders_order WHERE correlation_id LIKE %s AND status NOT IN ('confirmed', 'cancelled')"
)


@dataclass
class Context:
    target: Target
    settings: Settings
    probe: Probe
    session: object
    buyers: list
    skus: list[str]
    run_tag: str
    idle: dict | None = None


def _query(target: Target, sql: str, params) -> list:
    with psycopg.connect(target.database_urls["orders"], autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


async def run_step(ctx: Context, *, scenario: str, rate: float, label: str) -> dict:
    s = ctx.settings
    prefix = f"bench-{ctx.run_tag}-{label}"
    await asyncio.to_thread(refresh_tokens, ctx.target.gateway, ctx.buyers)
    maker = OrderMaker(
        gateway=ctx.target.gateway, buyers=ctx.buyers, skus=ctx.skus, prefix=prefix, hot=scenario == "hot",
        seed=int(rate * 1000), declined_share=s.declined_share,
    )  # fmt: skip
    before = await asyncio.to_thread(ctx.probe.counters)
    duration = s.warmup_s + s.steady_s
    samples: list[dict] = []
    stop = asyncio.Event()

    async def sampler():
        while not stop.is_set():
            samples.append(await asyncio.to_thread(ctx.probe.backlog))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def pss_near_end():
        await asyncio.sleep(max(0.0, duration - 1.0))
        return await asyncio.to_thread(ctx.probe.pss_mib)

    sampling = asyncio.create_task(sampler())
    pss_task = asyncio.create_task(pss_near_end())
    load_cpu = os.times()
    shots = await open_loop(ctx.session, rate=rate, duration_s=duration, make_request=maker, parse=True)
    load_cpu = (os.times().user - load_cpu.user) + (os.times().system - load_cpu.system)
    pss = await pss_task
    stop.set()
    await sampling

    # Drain: every order of the step terminal and nothing left queued, or the bound.
    drain_started = time.monotonic()
    while True:
        pending = (await asyncio.to_thread(_query, ctx.target, PENDING_SQL, (prefix + "-%",)))[0][0]
        backlog = await asyncio.to_thread(ctx.probe.backlog)
        if (pending == 0 and backlog["total"] == 0) or time.monotonic() - drain_started > s.drain_max_s:
            break
        await asyncio.sleep(1.0)
    drained_at = time.monotonic()
    after = await asyncio.to_thread(ctx.probe.counters)
    rows = await asyncio.to_thread(_query, ctx.target, TERMINAL_SQL, (prefix + "-%",))
    hop_figures = await asyncio.to_thread(hops.collect, ctx.target, prefix + "-")

    first = shots[0].intended
    warm_end, end = first + s.warmup_s, first + duration
    steady = [x for x in shots if warm_end <= x.intended < end]
    accepted = [x for x in steady if x.status == 201]
    terminal = {tag: (status, reason, at.timestamp() if at else None) for tag, status, reason, at in rows}
    terminal_ms, unsettled, outcomes, unexpected = [], 0, Counter(), Counter()
    for shot in accepted:
        status, reason, at = terminal.get(shot.tag, ("missing", None, None))
        if at is None:
            unsettled += 1
            terminal_ms.append((wall(drained_at) - wall(shot.intended)) * 1000)  # censored: at least this
        else:
            terminal_ms.append((at - wall(shot.intended)) * 1000)
        outcome = status if status != "cancelled" else f"cancelled:{reason}"
        outcomes[outcome] += 1
        expected = maker.expected[shot.tag]
        if (expected == "confirmed" and status != "confirmed") or (
            expected == "cancelled" and outcome != "cancelled:payment_declined"
        ):
            unexpected[outcome] += 1
    done_times = sorted(at for _, _, at in terminal.values() if at is not None)
    completed = sum(1 for at in done_times if wall(warm_end) <= at < wall(end))
    placed_all = [x for x in shots if x.status == 201]

    def in_flight(t: float) -> int:
        return sum(1 for x in placed_all if x.intended <= t) - sum(1 for at in done_times if at <= wall(t))

    window = [b for b in samples if warm_end <= b["t"] <= end + 0.5]
    end_backlog = min(samples, key=lambda b: abs(b["t"] - end)) if samples else None
    orders_placed = len(placed_all)
    messages = sum(v["n"] for v in hop_figures.values())
    with open("/proc/loadavg") as f:
        loadavg = float(f.read().split()[0])
    return {
        "scenario": scenario,
        "label": label,
        "offered_orders_per_s": rate,
        "steady_s": s.steady_s,
        "orders_offered": len(steady),
        "orders_accepted": len(accepted),
        "post_failures": len(steady) - len(accepted),
        "post_statuses": dict(Counter(str(x.status) for x in steady)),
        "achieved_post_per_s": round(len(accepted) / s.steady_s, 2),
        "achieved_orders_per_s": round(completed / s.steady_s, 2),
        "post_ms": latency_summary([x.latency_ms for x in steady]),
        "terminal_ms": latency_summary(terminal_ms),
        "unsettled": unsettled,
        "outcomes": dict(outcomes),
        "unexpected_outcomes": dict(unexpected),
        "in_flight_growth": in_flight(end) - in_flight(warm_end),
        "backlog_end": {k: end_backlog[k] for k in ("queues", "unsent_outbox", "total")} if end_backlog else None,
        "backlog_slope_per_s": round(slope([(b["t"], b["total"]) for b in window]), 2),
        "drain_s": round(drained_at - drain_started, 1),
        "generator": {
            "lag_ms": latency_summary([x.lag_ms for x in shots]),
            "cpu_s": round(load_cpu, 2),
        },
        "messages_per_order": round(messages / orders_placed, 2) if orders_placed else None,
        "per_order": per_order(delta(before, after), ctx.idle, orders_placed),
        "pss_mib": {"total": round(sum(pss.values()), 1), "by_process": pss},
        "hops": hop_figures,
        "loadavg_1m": loadavg,
    }


def judge(step: dict, reference: dict | None) -> list[str]:
    """The reasons a step is not sustainable (none: it is). See the module docstring."""
    rate, steady_s = step["offered_orders_per_s"], step["steady_s"]
    offered = max(1, step["orders_offered"])
    reasons = []
    if step["post_failures"] > 0.01 * offered:
        reasons.append(f"{step['post_failures']} POSTs failed")
    # One order of slack: a short window holds few orders, and one settling just after it is not saturation.
    if step["achieved_orders_per_s"] * steady_s < 0.9 * rate * steady_s - 1:
        reasons.append(f"settles {step['achieved_orders_per_s']}/s of {rate}/s offered")
    if step["in_flight_growth"] > 0.1 * rate * steady_s:
        reasons.append(f"in-flight orders grew by {step['in_flight_growth']}")
    if step["unsettled"]:
        reasons.append(f"{step['unsettled']} orders unsettled after {step['drain_s']} s")
    if reference:
        for key in ("post_ms", "terminal_ms"):
            base, now = reference[key]["p99"], step[key]["p99"]
            if base is not None and now is not None and now > max(3 * base, base + 500):
                reasons.append(f"{key[:-3]} p99 {now:.0f} ms vs {base:.0f} ms")
    return reasons


def _progress(step: dict) -> None:
    verdict = "ok" if step["sustainable"] else "SATURATED: " + "; ".join(step["reasons"])
    print(
        f"[bench] {step['label']:>12}: offered {step['offered_orders_per_s']:g}/s, settled "
        f"{step['achieved_orders_per_s']}/s, POST p99 {step['post_ms']['p99']} ms, terminal p99 "
        f"{step['terminal_ms']['p99']} ms, backlog {step['backlog_end'] and step['backlog_end']['total']}: {verdict}",
        flush=True,
    )


def halfway(steps: list[dict]) -> float | None:
    """The rate halfway between the highest sustainable step and the lowest saturated one above it, when
    the two are at least 4 orders/s apart; else None."""
    sustainable = [s["offered_orders_per_s"] for s in steps if s["sustainable"]]
    if not sustainable:
        return None
    below = max(sustainable)
    above = [s["offered_orders_per_s"] for s in steps if s["offered_orders_per_s"] > below]
    if not above or min(above) - below < 4:
        return None
    return round((below + min(above)) / 2, 1)


async def ladder(ctx: Context, scenario: str, rates: list[float]) -> dict:
    steps, reference, saturated, refined = [], None, 0, False
    queue = list(rates)
    while queue and saturated < ctx.settings.saturated_stop:
        rate = queue.pop(0)
        step = await run_step(ctx, scenario=scenario, rate=rate, label=f"{scenario}-r{rate:g}".replace(".", "_"))
        step["reasons"] = judge(step, reference)
        step["sustainable"] = not step["reasons"]
        steps.append(step)
        _progress(step)
        if step["sustainable"] and reference is None:
            reference = step
        if not step["sustainable"]:
            saturated += 1
            if reference is None and rate / 2 >= 1:
                queue.insert(0, rate / 2)
            elif not refined and (middle := halfway(steps)) is not None:
                refined = True
                queue.insert(0, middle)
    best = 0.0
    for step in sorted(steps, key=lambda x: x["offered_orders_per_s"]):
        if not step["sustainable"]:
            break
        best = step["offered_orders_per_s"]
    return {"max_sustainable_orders_per_s": best, "steps": steps, "reference": reference and reference["label"]}


async def half_load(ctx: Context, mix: dict) -> dict:
    """A step at half the max sustainable rate: the latencies a platform run with headroom shows."""
    best = mix["max_sustainable_orders_per_s"]
    rate = best / 2 if best else 1.0
    step = await run_step(ctx, scenario="mix", rate=rate, label=f"half-r{rate:g}".replace(".", "_"))
    reference = next((x for x in mix["steps"] if x["label"] == mix["reference"]), None)
    step["reasons"] = judge(step, reference)
    step["sustainable"] = not step["reasons"]
    _progress(step)
    step["post_p99_ms"] = step["post_ms"]["p99"]
    step["terminal_p99_ms"] = step["terminal_ms"]["p99"]
    step["no_sustainable_step"] = not best
    return step
