"""Workers and relays answer no HTTP: their heartbeat says whether they work (service_kit/heartbeat.py), and a
relay whose sweep wedges exits so that supervisord starts a fresh one."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from stack.config import StackConfig
from stack.processes import HEARTBEAT_CHECKS, Process, all_processes

from .helpers import REPO_ROOT, process_pid, process_state, wait_until

MESSAGING = ["inventory", "orders", "payments"]
# scripts/test.sh sets it for the test stack (the default is 120 s).
STALL_AFTER = float(os.environ.get("RELAY_STALL_AFTER", "120"))


def heartbeat_check(service: str, role: str) -> subprocess.CompletedProcess:
    """The process's own check (its Compose healthcheck), with its environment from the process list."""
    [process] = [p for p in all_processes(StackConfig.from_env()) if (p.service, p.role) == (service, role)]
    return subprocess.run(
        Process(process.name, HEARTBEAT_CHECKS[role], process.env).argv(),
        env={**os.environ, **process.env},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("role", ["worker", "relay"])
@pytest.mark.parametrize("service", MESSAGING)
def test_every_worker_and_relay_is_ready_by_its_heartbeat(service, role):
    result = wait_until(
        lambda: (check := heartbeat_check(service, role)).returncode == 0 and check,
        timeout=30,
        message=f"{service}-{role} ready",
    )

    assert result.stdout.startswith(f"{role} ready: last heartbeat")


def test_stack_status_says_each_worker_and_relay_is_ready():
    status = subprocess.run(
        [sys.executable, "-m", "stack", "status"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    ).stdout

    for service in MESSAGING:
        for role in ("worker", "relay"):
            line = next(line for line in status.splitlines() if line.startswith(f"{service}-{role} "))
            assert f"{role} ready" in line, line


def test_a_relay_whose_sweep_wedges_on_a_lock_exits_and_supervisord_starts_a_fresh_one():
    assert STALL_AFTER <= 60, "the test stack sets RELAY_STALL_AFTER (scripts/test.sh)"
    name = "app:inventory-relay"
    before = process_pid(name)
    assert before

    # Every sweep reads the outbox first: with the table locked, the sweep waits on the lock, as on any
    # lock or socket that never answers.
    with psycopg.connect(os.environ["INVENTORY_DATABASE_URL"]) as lock:
        lock.execute("LOCK TABLE service_kit_outboxmessage IN ACCESS EXCLUSIVE MODE")
        after = wait_until(
            lambda: (pid := process_pid(name)) not in (None, before) and pid,
            timeout=STALL_AFTER + 45,
            interval=0.5,
            message="the wedged relay exited and was started again",
        )
        lock.rollback()

    log = (Path(os.environ["STACK_VAR_DIR"]) / "log" / "inventory-relay.log").read_text()
    assert "relay sweep wedged" in log
    wait_until(lambda: process_state(name) == "RUNNING", timeout=30, message="relay running")
    # The fresh relay sweeps and beats again once the lock is gone.
    wait_until(lambda: heartbeat_check("inventory", "relay").returncode == 0, timeout=30, message="relay ready")
    assert process_pid(name) == after


def test_a_web_runs_below_the_workers_priority_so_accepted_orders_finish_first():
    """Each web (gunicorn's master and its workers) runs WEB_NICE (10 by default) above the nice value of its
    service's Celery worker (service_kit/gunicorn_conf.py): when the CPU cannot carry the load, the workers that
    finish orders already taken run before the web that takes new ones."""
    increment = int(os.environ.get("WEB_NICE") or 10)
    for service in MESSAGING:
        web, worker = process_pid(f"app:{service}-web"), process_pid(f"app:{service}-worker")
        children = [int(pid) for pid in Path(f"/proc/{web}/task/{web}/children").read_text().split()]

        assert children, f"{service}-web has no workers"
        for pid in [web, *children]:
            assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, worker) + increment
