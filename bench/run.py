"""`make bench` (`python -m bench`): the whole benchmark, from stack up to results.json and the chart.

Order of work: start (or find) the stack; seed products and buyers; idle figures (counters, memory);
read ceilings at the small catalogue; the saga ladders (mix, half load, hot SKU); the messaging
ceiling; the large catalogue; the saga through six faults at half load (last: it breaks connections);
results, table, chart; stack down. Everything the run adds to the
catalogue for itself is removed again.
"""

import asyncio
import json
import os
import time
import uuid
from dataclasses import asdict

import psycopg

from . import catalogue, faults, report, saga
from .ceilings import messaging_ceiling, read_ceilings
from .loadgen import make_session
from .probes import Probe, delta
from .scenarios import HOT_SKU, ensure_products, mix_skus, register_buyers, sign_in
from .settings import Settings, from_env
from .stats import ratio
from .target import ROOT, SERVICES, Target, restart_own_stack, target


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def preload_statements(tgt: Target) -> Target:
    """pg_stat_statements needs shared_preload_libraries: set with ALTER SYSTEM in the bench stack's own
    clusters (kept in their data folders), then restart the stack once the way it was started."""
    missing = []
    for service in SERVICES:
        info = tgt.superuser_conninfo(service)
        if not info:
            return tgt
        with psycopg.connect(info, autocommit=True) as conn:
            if "pg_stat_statements" not in conn.execute("SHOW shared_preload_libraries").fetchone()[0]:
                conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
                missing.append(service)
    if not missing:
        return tgt
    log(f"pg_stat_statements preloaded in {', '.join(missing)}: restarting the bench stack once")
    return restart_own_stack()


async def saga_all(ctx_args: dict, settings: Settings) -> dict:
    async with make_session(settings.request_timeout_s) as session:
        ctx = saga.Context(session=session, **ctx_args)
        mix = await saga.ladder(ctx, "mix", settings.rates)
        half = await saga.half_load(ctx, mix)
        hot = await saga.ladder(ctx, "hot", settings.hot_rates)
    return {"mix": mix, "half": half, "hot": hot}


async def through_faults(ctx_args: dict, settings: Settings, rate: float) -> dict:
    async with make_session(settings.request_timeout_s) as session:
        return await faults.through_faults(saga.Context(session=session, **ctx_args), rate=rate)


def run(tgt: Target, settings: Settings) -> dict:
    log(f"{settings.mode} run against {tgt.gateway}")
    staff = sign_in(tgt.gateway, tgt.admin_email, tgt.admin_password)
    skus = mix_skus(settings.skus)
    ensure_products(tgt.gateway, staff.access, [*skus, HOT_SKU], settings.stock_per_sku)
    log(f"registering {settings.buyers} buyers (auth endpoints allow 5/s)")
    buyers = register_buyers(tgt.gateway, settings.buyers)
    probe = Probe(tgt)
    results: dict = {}
    try:
        small = catalogue.grow_to(tgt, settings.catalogue_small)
        first = probe.counters()
        time.sleep(settings.idle_s)
        idle = delta(first, probe.counters())
        idle_pss = probe.pss_mib()
        reads = read_ceilings(tgt, settings)
        ctx_args = dict(target=tgt, settings=settings, probe=probe, buyers=buyers, skus=skus,
                        run_tag=uuid.uuid4().hex[:6], idle=idle)  # fmt: skip
        sagas = asyncio.run(saga_all(ctx_args, settings))
        messaging = messaging_ceiling(tgt, settings)
        log(f"growing the catalogue to {settings.catalogue_large} products (COPY)")
        large = catalogue.grow_to(tgt, settings.catalogue_large)
        large_reads = catalogue.measure(tgt, settings)
        log(f"catalogue at {large}: p99 {large_reads['fixed_rate']['p99']} ms at {settings.read_rate}/s")
        rate = sagas["half"]["offered_orders_per_s"]
        log(f"six faults at half load ({rate:g} orders/s)")
        found = results["faults"] = asyncio.run(through_faults(ctx_args, settings, rate))
        log(f"faults: last order terminal {found['last_terminal_after_last_fault_s']} s after the last fault, "
            f"{found['lost']} lost, {found['sent_again_total']} sent again")  # fmt: skip
    finally:
        catalogue.remove_bulk(tgt)
        probe.close()
    results.update(
        assemble(
            settings,
            tgt,
            idle,
            idle_pss,
            reads,
            small,
            large_reads,
            sagas,
            messaging,
            statements=bool(probe.statements),
        )
    )
    return results


def assemble(settings, tgt, idle, idle_pss, reads, small, large_reads, sagas, messaging, *, statements) -> dict:
    mix, half, hot = sagas["mix"], sagas["half"], sagas["hot"]
    steps = mix["steps"]
    best = mix["max_sustainable_orders_per_s"]
    per_order_messages = [s["messages_per_order"] for s in steps if s["messages_per_order"]]
    messages_per_order = round(sum(per_order_messages) / len(per_order_messages), 2) if per_order_messages else None
    message_rate = round(best * messages_per_order, 1) if messages_per_order else None
    load_pss = max((s["pss_mib"] for s in [*steps, half, *hot["steps"]]), key=lambda p: p["total"])
    nginx, direct, ceiling = (reads[k] for k in ("nginx", "direct", "ceiling"))
    small_p99 = nginx["fixed_rate"]["p99"]
    return {
        "saga": {
            "max_sustainable_orders_per_s": best,
            "rule": saga.RULE,
            "steps": steps,
            "half_load": half,
            "hot_sku": {"max_sustainable_orders_per_s": hot["max_sustainable_orders_per_s"], "steps": hot["steps"]},
            "messages_per_order": messages_per_order,
            "message_rate_at_max_per_s": message_rate,
            "message_rate_to_ceiling": ratio(message_rate, messaging["burst"]["tasks_per_s"]),
            "pg_stat_statements": statements,
        },
        "read": {
            "nginx_rps": nginx["throughput"]["rps"],
            "direct_rps": direct["throughput"]["rps"],
            "ceiling_rps": ceiling["throughput"]["rps"],
            "ratio_to_ceiling": ratio(nginx["throughput"]["rps"], ceiling["throughput"]["rps"]),
            "direct_to_ceiling": ratio(direct["throughput"]["rps"], ceiling["throughput"]["rps"]),
            "nginx_to_direct": ratio(nginx["throughput"]["rps"], direct["throughput"]["rps"]),
            "p99_ms_nginx": small_p99,
            "p99_ms_direct": direct["fixed_rate"]["p99"],
            "p99_ms_ceiling": ceiling["fixed_rate"]["p99"],
            "p99_ratio_to_ceiling": ratio(small_p99, ceiling["fixed_rate"]["p99"]),
            "catalogue": {"small": {"products": small, **nginx}, "large": large_reads},
            "p99_ms_1m_to_1k": ratio(large_reads["fixed_rate"]["p99"], small_p99, 2),
            "rps_1m_to_1k": ratio(large_reads["throughput"]["rps"], nginx["throughput"]["rps"]),
            "targets": reads,
        },
        "messaging": messaging,
        "memory": {
            "pss_mib_total_idle": round(sum(idle_pss.values()), 1),
            "pss_mib_total_load": load_pss["total"],
            "idle_by_process": idle_pss,
            "load_by_process": load_pss["by_process"],
        },
        "idle": idle,
        "settings": asdict(settings),
        "stack": {"own": tgt.own, "gateway": tgt.gateway, "var_dir": str(tgt.var_dir)},
    }


def main() -> None:
    settings = from_env()
    started = time.monotonic()
    results = {"mode": settings.mode, "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    with target() as tgt:
        if tgt.own and os.environ.get("BENCH_PG_STATEMENTS", "1") != "0":
            tgt = preload_statements(tgt)
        results["machine"] = {"cpus": os.cpu_count(), "loadavg_1m_start": os.getloadavg()[0]}
        results.update(run(tgt, settings))
        out = tgt.results_path
        own = tgt.own
    results["duration_s"] = round(time.monotonic() - started)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    chart_path = out.with_name("bench.png")
    report.chart(results, chart_path)
    if own and settings.mode != "tiny":
        report.chart(results, ROOT / "docs" / "bench.png")
    print(report.table(results))
    log(f"written {out} and {chart_path}")


if __name__ == "__main__":
    main()
