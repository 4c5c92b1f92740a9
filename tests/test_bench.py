"""The benchmark's tiny mode against the running test stack: it must produce every key, sanely.

No speed figure is asserted: this keeps `make bench` from rotting, and its fault phase (six faults on the
test stack) must lose no order.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEYS = [
    "saga.max_sustainable_orders_per_s",
    "saga.half_load.post_p99_ms",
    "saga.half_load.terminal_p99_ms",
    "saga.hot_sku.max_sustainable_orders_per_s",
    "read.nginx_rps",
    "read.ceiling_rps",
    "read.ratio_to_ceiling",
    "read.nginx_to_direct",
    "read.p99_ms_1m_to_1k",
    "memory.pss_mib_total_idle",
    "memory.pss_mib_total_load",
]


def lookup(results: dict, dotted: str):
    value = results
    for part in dotted.split("."):
        value = value[part]
    return value


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    if not (os.environ.get("GATEWAY_URL") and os.environ.get("STACK_VAR_DIR")):
        pytest.skip("needs a running stack (python -m stack env)")
    out = tmp_path_factory.mktemp("bench") / "results.json"
    env = {**os.environ, "BENCH_TINY": "1", "BENCH_OUT": str(out)}
    subprocess.run([sys.executable, "-m", "bench"], cwd=ROOT, env=env, check=True, timeout=600)
    return json.loads(out.read_text())


def test_every_key_is_there_and_sane(results):
    for key in KEYS:
        value = lookup(results, key)
        assert isinstance(value, int | float), (key, value)
        assert value >= 0, (key, value)
    assert results["mode"] == "tiny"
    assert results["memory"]["pss_mib_total_idle"] > 0
    assert results["read"]["nginx_rps"] > 0 and results["read"]["ceiling_rps"] > 0


def test_steps_measure_orders_and_their_hops(results):
    steps = results["saga"]["steps"]
    assert steps
    step = steps[0]
    assert step["orders_accepted"] > 0
    assert step["terminal_ms"]["n"] == step["orders_accepted"]
    assert step["post_ms"]["p50"] <= step["post_ms"]["p99"] <= step["post_ms"]["max"]
    # The saga's first message is discovered from the outbox, with its consumer.
    assert any(info["consumer"] for info in step["hops"].values())
    assert step["per_order"]["cpu_ms_total"] > 0
    assert Path(results["stack"]["var_dir"]).exists()


def test_the_catalogue_was_left_as_it_was(results):
    import psycopg

    with psycopg.connect(os.environ["INVENTORY_DATABASE_URL"]) as conn:
        bulk = conn.execute("SELECT count(*) FROM inventory_product WHERE sku LIKE 'BULK-%'").fetchone()[0]
    assert bulk == 0


def test_the_saga_goes_through_six_faults_and_loses_nothing(results):
    """The fault phase ran all six faults under load, every order it placed settled, and the fault tests'
    invariants held after it (no speed figure is asserted)."""
    faults = results["faults"]
    assert [f["fault"].split()[0] for f in faults["faults"]] == ["inventory", "payments", "Redis", "orders",
                                                                  "payments'", "orders-web's"]  # fmt: skip
    assert faults["orders_accepted"] > 0
    assert faults["lost"] == 0, faults
    assert faults["violation_count"] == 0, faults["violations"]
    assert faults["last_terminal_after_last_fault_s"] is not None
    assert faults["terminal_ms"]["n"] == faults["orders_accepted"]


@pytest.mark.parametrize(
    "steps, expected",
    [
        ([(5, True), (10, True), (20, True), (40, False)], 30),
        ([(20, True), (40, False), (30, True)], 35),
        ([(5, True), (10, True), (20, True), (40, False), (60, False)], 30),
        ([(10, False), (5, False)], None),  # nothing sustainable: the ladder halves instead
        ([(20, True), (22, False)], None),  # too close to tell apart
        ([(5, True), (10, True)], None),  # nothing saturated
    ],
)
def test_the_ladder_tries_halfway_between_the_last_sustainable_and_the_first_saturated_rate(steps, expected):
    from bench.saga import halfway

    assert halfway([{"offered_orders_per_s": rate, "sustainable": ok} for rate, ok in steps]) == expected
