"""The heartbeat of a worker or a relay, its check (`python -m service_kit.heartbeat`), and the relay's watchdog."""

import os
import subprocess
import sys
import textwrap
import time

import pytest
from service_kit import heartbeat


@pytest.fixture
def heartbeats(tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTBEAT_DIR", str(tmp_path))
    monkeypatch.setenv("SERVICE_NAME", "kit")
    return tmp_path


def check(role: str, directory) -> subprocess.CompletedProcess:
    env = {**os.environ, "HEARTBEAT_DIR": str(directory), "SERVICE_NAME": "kit"}
    return subprocess.run(
        [sys.executable, "-m", "service_kit.heartbeat", role], env=env, capture_output=True, text=True, timeout=30
    )


def test_a_fresh_beat_is_ready_and_the_check_says_so(heartbeats):
    heartbeat.beat("worker")

    assert (heartbeats / "kit-worker").exists()
    assert heartbeat.ready("worker")
    result = check("worker", heartbeats)
    assert result.returncode == 0
    assert result.stdout.startswith("worker ready: last heartbeat")


def test_no_beat_yet_is_not_ready(heartbeats):
    assert heartbeat.age("relay") is None
    result = check("relay", heartbeats)

    assert result.returncode == 1
    assert "no heartbeat yet" in result.stderr


@pytest.mark.parametrize("role", ["worker", "relay"])
def test_a_beat_older_than_its_bound_is_not_ready(heartbeats, role):
    heartbeat.beat(role)
    stale = time.time() - heartbeat.READY_WITHIN[role] - 1
    os.utime(heartbeats / f"kit-{role}", (stale, stale))

    assert not heartbeat.ready(role)
    assert check(role, heartbeats).returncode == 1


def test_the_check_of_an_unknown_role_is_a_usage_error(heartbeats):
    result = check("web", heartbeats)

    assert result.returncode == 2
    assert "usage" in result.stderr


def test_the_watchdog_ends_a_process_whose_sweep_does_not_return():
    code = textwrap.dedent(
        """
        import time
        from service_kit.heartbeat import Watchdog
        watchdog = Watchdog(0.5)
        watchdog.start()
        watchdog.sweep_started()
        time.sleep(10)
        """
    )
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)

    assert result.returncode == heartbeat.EXIT_WEDGED
    assert time.monotonic() - started < 5
    assert "relay sweep wedged" in result.stderr


def test_the_watchdog_leaves_a_process_whose_sweeps_end_alone():
    code = textwrap.dedent(
        """
        import time
        from service_kit.heartbeat import Watchdog
        watchdog = Watchdog(0.5)
        watchdog.start()
        for _ in range(10):
            watchdog.sweep_started()
            time.sleep(0.1)
            watchdog.sweep_ended()
            time.sleep(0.2)
        print("finished")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)

    assert result.returncode == 0
    assert result.stdout.strip() == "finished"


def test_a_starting_process_forgets_an_earlier_ones_heartbeat(heartbeats):
    heartbeat.beat("relay")

    heartbeat.forget("relay")
    heartbeat.forget("relay")

    assert heartbeat.age("relay") is None
