"""The Celery app Flower watches the platform with: `celery --app monitoring.flower_app flower`.

It declares the platform's queues, so Flower's broker page shows their depths, and it keeps Flower's
list of workers current. Flower inspects the workers once at its own start, when they may not be up
yet, and afterwards only when a person asks; an inspection that meets a broker connection broken by
a Redis restart fails (its pooled broker connections are broken). Here Flower inspects again on its
own: within seconds whenever a worker that sends heartbeats is missing from its list or its figures
are stale, on fresh connections after a failure, and every minute in any case, so the list mends
itself after Flower, a worker or Redis restarts, without Flower being restarted.
"""

import logging
import os
import time
from functools import partial
from pathlib import Path

import yaml
from celery import Celery
from flower import command
from flower.app import Flower
from flower.inspector import Inspector
from kombu import Queue
from tornado.ioloop import PeriodicCallback

logger = logging.getLogger("flower.inspector")
# The platform's queues: every channel of the message contract.
CONTRACT = Path(__file__).resolve().parent.parent / "contracts" / "asyncapi.yaml"
QUEUES = sorted(channel["address"] for channel in yaml.safe_load(CONTRACT.read_text())["channels"].values())
CHECK_EVERY_SECONDS = 5
REFRESH_EVERY_SECONDS = 60

app = Celery("platform", broker=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.conf.broker_connection_retry_on_startup = True


class FreshConnectionInspector(Inspector):
    """Flower's inspector, each inspection on a broker connection of its own rather than one from the
    app's pool, which a broker restart leaves broken ("Connection closed by server")."""

    def _inspect(self, method, workername):
        destination = [workername] if workername else None
        with self.capp.connection_for_write() as connection:
            inspect = self.capp.control.inspect(timeout=self.timeout, destination=destination, connection=connection)
            try:
                result = getattr(inspect, method)(**({"safe": True} if method == "active" else {}))
            except Exception as exc:
                if not self._is_connection_error(exc):
                    raise
                logger.warning("Inspect method %s failed: %s", method, exc)
                return
        if result is None or "error" in result:
            logger.warning("Inspect method %s failed", method)
            return
        for worker, response in result.items():
            if response is not None:
                self.io_loop.add_callback(partial(self._on_update, worker, method, response))


class PlatformFlower(Flower):
    """Flower whose list of workers follows the workers' heartbeats."""

    last_refresh = 0.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.inspector = FreshConnectionInspector(self.io_loop, self.capp, self.options.inspect_timeout / 1000.0)

    def start(self):
        PeriodicCallback(self.keep_workers_current, CHECK_EVERY_SECONDS * 1000).start()
        super().start()

    def keep_workers_current(self) -> None:
        """Inspect again when a worker that sends heartbeats is missing, or its figures are older than a
        refresh (at once after Flower or a worker starts, again while an inspection fails), and every
        minute in any case."""
        now = time.time()
        alive = {name for name, worker in self.events.state.workers.items() if worker.alive}
        inspected = {name: info.get("timestamp", 0) for name, info in self.inspector.workers.items() if "stats" in info}
        behind = {name for name in alive if now - inspected.get(name, 0) > REFRESH_EVERY_SECONDS + CHECK_EVERY_SECONDS}
        due = now - self.last_refresh > REFRESH_EVERY_SECONDS
        if not (behind or due) or now - self.last_refresh < 2 * CHECK_EVERY_SECONDS:
            return
        self.last_refresh = now
        self.update_workers()


# `celery flower` builds its application from this name when it runs.
command.Flower = PlatformFlower
