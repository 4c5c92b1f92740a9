"""What one run of the benchmark does: its mode (full, quick, tiny) and the sizes that follow from it.

The modes share every code path and differ only in sizes, so the quick and tiny runs keep the full
one from rotting. Environment variables override single figures (BENCH_RATES="5,10,20", ...).
"""

import os
from dataclasses import dataclass, field, replace

LADDER = [5, 10, 20, 40, 60, 80, 100, 120]


@dataclass(frozen=True)
class Settings:
    mode: str
    rates: list[float] = field(default_factory=lambda: list(LADDER))
    hot_rates: list[float] = field(default_factory=lambda: list(LADDER))
    warmup_s: float = 10
    steady_s: float = 30
    # A step's orders must all settle within this after it ends, else it counts as saturated.
    drain_max_s: float = 120
    # Saturated steps after which the stepping stops.
    saturated_stop: int = 2
    buyers: int = 50
    skus: int = 200
    stock_per_sku: int = 1_000_000
    declined_share: float = 0.10
    # Reads: fixed concurrency (throughput) and fixed rate (latency percentiles).
    read_seconds: float = 10
    read_connections: int = 16
    read_rate: float = 25
    catalogue_small: int = 1_000
    catalogue_large: int = 1_000_000
    # Messaging ceiling: tasks sent at once (throughput), then a fixed-rate run (latency).
    noop_tasks: int = 2_000
    noop_rate: float = 50
    noop_seconds: float = 10
    # What the idle platform does (taken off each step's per-order figures): long enough that a burst of
    # PostgreSQL's own work (autovacuum after the seeding, a checkpoint) is averaged, not multiplied.
    idle_s: float = 15
    request_timeout_s: float = 30
    # Six faults at half load (bench/faults.py): the first after `fault_lead_s`, then one every `fault_gap_s`;
    # then every order must settle within `fault_drain_s` (a task a killed worker held comes back after the
    # broker's visibility timeout, 60 s).
    fault_lead_s: float = 10
    fault_gap_s: float = 20
    redis_down_s: float = 5
    database_down_s: float = 20
    fault_drain_s: float = 240


def from_env() -> Settings:
    if os.environ.get("BENCH_TINY"):
        base = Settings(
            mode="tiny", rates=[2], hot_rates=[2], warmup_s=1, steady_s=3, drain_max_s=30, buyers=3, skus=5,
            read_seconds=1, read_connections=4, read_rate=10, catalogue_small=100, catalogue_large=5_000,
            noop_tasks=50, noop_rate=20, noop_seconds=2, idle_s=1, fault_lead_s=1, fault_gap_s=3, redis_down_s=1,
            database_down_s=2, fault_drain_s=150,
        )  # fmt: skip
    elif os.environ.get("BENCH_QUICK"):
        base = Settings(
            mode="quick", hot_rates=[5, 10, 20], warmup_s=2, steady_s=5, drain_max_s=12, buyers=8, skus=40,
            read_seconds=2, read_rate=20, catalogue_large=100_000, noop_tasks=400, noop_rate=40, noop_seconds=3,
            idle_s=10, fault_lead_s=4, fault_gap_s=8, redis_down_s=3, database_down_s=8, fault_drain_s=180,
        )  # fmt: skip
    else:
        base = Settings(mode="full")
    overrides = {}
    for name, key in (("BENCH_RATES", "rates"), ("BENCH_HOT_RATES", "hot_rates")):
        if os.environ.get(name):
            overrides[key] = [float(x) for x in os.environ[name].split(",") if x.strip()]
    for name, key in (("BENCH_WARMUP", "warmup_s"), ("BENCH_STEADY", "steady_s"), ("BENCH_DRAIN", "drain_max_s")):
        if os.environ.get(name):
            overrides[key] = float(os.environ[name])
    if os.environ.get("BENCH_LARGE"):
        overrides["catalogue_large"] = int(os.environ["BENCH_LARGE"])
    return replace(base, **overrides)
