"""Periodic jobs: the table of what runs every sweep (or every so often), and the one loop that runs it.

The outbox relay process (`manage.py outbox_relay`) is this loop with `relay_jobs()`: the relay's own
work, then the service's periodic functions (SERVICE_KIT["RELAY_PERIODIC"], e.g. orders' expiry, saga
driver and reconciliation). Jobs that must not run twice at once across relays guard themselves (row
locks with SKIP LOCKED, PostgreSQL advisory locks), so any number of relays may run the same table.

Not Celery beat: beat sends each run through the broker as a task for a worker, so the relay's jobs
would stop while the broker is down (the outage they exist to outlast) and wait behind a saga backlog
on the worker's queue; nor can it sweep again at once while there is still work, and it is one more
process per service.
"""

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections
from django.utils.module_loading import import_string

from ..conf import kit_settings
from ..heartbeat import Watchdog
from .receipts import receipts_send
from .relay import outbox_prune, outbox_publish, outbox_redeliver

logger = logging.getLogger(__name__)

PRUNE_EVERY = 3600.0


@dataclass
class Job:
    """One periodic job: `run` every sweep, or at most once every `every` seconds.

    A job that `counts` returns how many messages it sent: while one does, the next sweep follows at
    once rather than after the interval. A job that is not `isolated` is part of the sweep itself: its
    failure (the database or broker gone) ends that sweep; an isolated one's failure is logged and the
    jobs after it still run."""

    name: str
    run: Callable[[], Any]
    every: float = 0.0
    counts: bool = False
    isolated: bool = True
    last_run: float | None = None

    def due(self, now: float) -> bool:
        return self.last_run is None or now - self.last_run >= self.every


def relay_jobs() -> list[Job]:
    """The relay's table: send what the after-commit send left, the receipts, again what got no receipt;
    the service's periodic functions; hourly, prune what is past its retention."""
    return [
        Job("outbox_publish", outbox_publish, counts=True, isolated=False),
        Job("receipts_send", receipts_send, isolated=False),
        Job("outbox_redeliver", outbox_redeliver, counts=True, isolated=False),
        *(Job(path, import_string(path)) for path in kit_settings.RELAY_PERIODIC),
        Job("outbox_prune", outbox_prune, every=PRUNE_EVERY, isolated=False),
    ]


class Scheduler:
    """Runs its jobs in order, sweep after sweep, until stopped (SIGTERM/SIGINT once `run` started).

    After each sweep that reached the database and the broker it calls `on_healthy_sweep` (the relay's
    heartbeat), and it tells `watchdog` when each sweep starts and ends (service_kit/heartbeat.py)."""

    def __init__(
        self,
        jobs: list[Job],
        *,
        interval: float,
        on_healthy_sweep: Callable[[], None] | None = None,
        watchdog: Watchdog | None = None,
    ):
        self.jobs = jobs
        self.interval = interval
        self.on_healthy_sweep = on_healthy_sweep
        self.watchdog = watchdog
        self.running = False
        self.last_sweep_healthy = False

    def sweep(self) -> int:
        """One pass over the due jobs; how many messages the counting jobs sent."""
        close_old_connections()
        sent = 0
        self.last_sweep_healthy = False
        try:
            for job in self.jobs:
                if not job.due(time.monotonic()):
                    continue
                try:
                    done = job.run()
                except Exception:
                    if not job.isolated:
                        raise
                    # one failing job must not stop the others
                    logger.exception("periodic job failed", extra={"job": job.name})
                    continue
                job.last_run = time.monotonic()
                if job.counts:
                    sent += done
            self.last_sweep_healthy = True
        except Exception:  # a database or broker outage: keep going, the next sweep retries
            logger.exception("relay sweep failed")
            close_old_connections()
        return sent

    def run(self, *, once: bool = False) -> None:
        """Sweep until stopped; after a sweep that sent nothing, wait `interval` seconds first."""
        self.running = True
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        if self.watchdog:
            self.watchdog.start()
        while self.running:
            if self.watchdog:
                self.watchdog.sweep_started()
            sent = self.sweep()
            if self.watchdog:
                self.watchdog.sweep_ended()
            if self.last_sweep_healthy and self.on_healthy_sweep:
                self.on_healthy_sweep()
            if once:
                break
            if not sent:
                time.sleep(self.interval)

    def stop(self, *args) -> None:
        self.running = False
