"""The Celery app Flower watches the platform with: `celery --app monitoring.flower_app flower`.

It declares the platform's queues, so Flower's broker page shows their depths, and it keeps Flower's
list of workers current. Flower inspects the workers once at its own start, when they may not be up
yet, and afterwards only when a person asks; an inspection that meets a broker connection broken by
a Redis restart fails. Here Flower inspects again on its own: within seconds whenever a worker that
sends heartbeats is missing from its list, and every minute in any case, so the list mends itself
after Flower, a worker or Redis restarts, without Flower being restarted.
"""

import os
import time

from celery import Celery
from flower import command
from flower.app import Flower
from kombu import Queue
from tornado.ioloop import PeriodicCallback

QUEUES = ("users", "inventory", "orders", "payments")
CHECK_EVERY_SECONDS = 5
REFRESH_EVERY_SECONDS = 60

app = Celery("platform", broker=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.conf.broker_connection_retry_on_startup = True


class PlatformFlower(Flower):
    """Flower whose list of workers follows the workers' heartbeats."""

    last_refresh = 0.0

    def start(self):
        PeriodicCallback(self.keep_workers_current, CHECK_EVERY_SECONDS * 1000).start()
        super().start()

    def keep_workers_current(self) -> None:
        alive = {name for name, worker in self.events.state.workers.items() if worker.alive}
        missing = alive - {name for name, info in self.inspector.workers.items() if "stats" in info}
        if missing or time.monotonic() - self.last_refresh > REFRESH_EVERY_SECONDS:
            self.last_refresh = time.monotonic()
            self.update_workers()


# `celery flower` builds its application from this name when it runs.
command.Flower = PlatformFlower
