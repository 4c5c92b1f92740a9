"""results.json as a readable table and a chart; both read only the results file."""

import json
from pathlib import Path


def get(results: dict, dotted: str):
    value = results
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


SUMMARY = [
    ("saga.max_sustainable_orders_per_s", "max sustainable orders/s (mix)"),
    ("saga.hot_sku.max_sustainable_orders_per_s", "max sustainable orders/s (hot SKU)"),
    ("saga.half_load.offered_orders_per_s", "half load: offered orders/s"),
    ("saga.half_load.post_p99_ms", "half load: POST p99 ms"),
    ("saga.half_load.terminal_p99_ms", "half load: POST -> terminal p99 ms"),
    ("saga.messages_per_order", "saga messages per order"),
    ("saga.message_rate_to_ceiling", "saga messages/s at max, ratio to no-op Celery"),
    ("messaging.burst.tasks_per_s", "no-op Celery tasks/s (ceiling)"),
    ("messaging.fixed_rate.p99", "no-op Celery round trip p99 ms"),
    ("read.nginx_rps", "catalogue via nginx req/s"),
    ("read.direct_rps", "catalogue via gunicorn direct req/s"),
    ("read.ceiling_rps", "bare Django page req/s (ceiling)"),
    ("read.ratio_to_ceiling", "nginx req/s, ratio to ceiling"),
    ("read.nginx_to_direct", "nginx req/s, ratio to direct"),
    ("read.p99_ms_nginx", "catalogue p99 ms at fixed rate"),
    ("read.p99_ratio_to_ceiling", "catalogue p99, ratio to ceiling's"),
    ("read.catalogue.large.products", "large catalogue: products"),
    ("read.p99_ms_1m_to_1k", "catalogue p99, large / small"),
    ("memory.pss_mib_total_idle", "PSS MiB total, idle"),
    ("memory.pss_mib_total_load", "PSS MiB total, under load"),
    ("faults.offered_orders_per_s", "six faults: offered orders/s"),
    ("faults.last_terminal_after_last_fault_s", "six faults: last terminal after last, s"),
    ("faults.terminal_ms.p99", "six faults: POST -> terminal p99 ms"),
    ("faults.lost", "six faults: orders lost"),
    ("faults.violation_count", "six faults: invariants broken"),
    ("faults.sent_again_total", "six faults: messages sent again"),
    ("faults.publish_failed_total", "six faults: publishes retried"),
    ("faults.queue_peak", "six faults: queue peak"),
]


def table(results: dict) -> str:
    machine = results.get("machine") or {}
    lines = [
        f"Benchmark ({results.get('mode')} run, {results.get('duration_s')} s; {machine.get('cpus')} CPUs, "
        f"load average {machine.get('loadavg_1m_start', 0):.1f} at the start)",
        "",
    ]
    width = max(len(label) for _, label in SUMMARY)
    lines += [f"  {label:<{width}}  {fmt(get(results, key))}" for key, label in SUMMARY]
    header = (
        f"  {'step':<14}{'offered/s':>10}{'settled/s':>10}{'POST p50':>9}{'p99':>8}{'p99.9':>8}"
        f"{'term p50':>10}{'p90':>8}{'p99':>8}{'p99.9':>8}{'backlog':>8}{'cpu ms/o':>9}  verdict"
    )
    steps = [*(get(results, "saga.steps") or []), get(results, "saga.half_load"),
             *(get(results, "saga.hot_sku.steps") or [])]  # fmt: skip
    lines += ["", header]
    for step in filter(None, steps):
        post, term = step["post_ms"], step["terminal_ms"]
        backlog = step["backlog_end"]["total"] if step.get("backlog_end") else None
        verdict = "ok" if step.get("sustainable") else "saturated"
        lines.append(
            f"  {step['label']:<14}{fmt(step['offered_orders_per_s']):>10}{fmt(step['achieved_orders_per_s']):>10}"
            f"{fmt(post['p50']):>9}{fmt(post['p99']):>8}{fmt(post['p99_9']):>8}{fmt(term['p50']):>10}"
            f"{fmt(term['p90']):>8}{fmt(term['p99']):>8}{fmt(term['p99_9']):>8}{fmt(backlog):>8}"
            f"{fmt(step['per_order'].get('cpu_ms_total')):>9}  {verdict}"
        )
    lines += ["", f"  rule: {get(results, 'saga.rule')}"]
    return "\n".join(lines)


def chart(results: dict, path: Path) -> None:
    """Latency percentiles against offered rate, with the max-sustainable line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    for scenario, steps, style in (
        ("mix", get(results, "saga.steps") or [], "-"),
        ("hot SKU", get(results, "saga.hot_sku.steps") or [], ":"),
    ):
        steps = sorted(steps, key=lambda s: s["offered_orders_per_s"])
        rates = [s["offered_orders_per_s"] for s in steps]
        for key, label, colour in (("p50", "p50", "tab:green"), ("p90", "p90", "tab:blue"),
                                   ("p99", "p99", "tab:orange"), ("p99_9", "p99.9", "tab:red")):  # fmt: skip
            values = [s["terminal_ms"][key] for s in steps]
            ax.plot(rates, values, style, marker="o", color=colour, label=f"{scenario} POST->terminal {label}")
        if scenario == "mix":
            ax.plot(rates, [s["post_ms"]["p99"] for s in steps], "--", marker="x", color="grey", label="mix POST p99")
    best = get(results, "saga.max_sustainable_orders_per_s")
    if best:
        ax.axvline(best, color="black", linewidth=1)
        ax.text(best, ax.get_ylim()[0], f" max sustainable {best:g}/s", rotation=90, va="bottom")
    ax.set_yscale("log")
    ax.set_xlabel("offered orders/s (open loop)")
    ax.set_ylabel("latency from intended send time (ms)")
    ax.set_title(f"Order saga latency against offered rate ({results.get('mode')} run)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(path: str) -> None:
    print(table(json.loads(Path(path).read_text())))


if __name__ == "__main__":
    import sys

    main(sys.argv[1])
