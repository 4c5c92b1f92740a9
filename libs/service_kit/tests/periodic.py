"""Test-only periodic functions for the outbox relay's SERVICE_KIT["RELAY_PERIODIC"]."""

import os
import signal

SWEEPS_BEFORE_STOP = 3
calls: list[str] = []


def record_call() -> None:
    calls.append("record_call")


def explode() -> None:
    calls.append("explode")
    raise RuntimeError("periodic job failed")


def stop_relay_after_three_sweeps() -> None:
    """Sends the relay the SIGTERM a process manager would, on its third sweep."""
    calls.append("stop")
    if calls.count("stop") == SWEEPS_BEFORE_STOP:
        os.kill(os.getpid(), signal.SIGTERM)
