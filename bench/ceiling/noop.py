"""A Celery app with one no-op task, configured like the services' apps: the messaging ceiling.

Its settings are the services' own CELERY_* settings (service_kit/settings.py), so a
change there moves the ceiling too. The task only stamps when it ran, in a Redis list, so the load
side can tell each task's round trip: due time -> published -> picked up -> executed.
"""

import os
import time

import redis
from celery import Celery

# The shared settings are a service's: this app stands as one named after its queue.
os.environ.setdefault("SERVICE_NAME", "bench-noop")
from service_kit import settings as service_settings

QUEUE = "bench-noop"
DONE_KEY = "bench:noop:done"

app = Celery("bench_noop")
app.conf.update(
    {
        name.removeprefix("CELERY_").lower(): getattr(service_settings, name)
        for name in dir(service_settings)
        if name.startswith("CELERY_")
    }
)
app.conf.task_default_queue = QUEUE
_redis = None


@app.task(name="bench.noop", ignore_result=True)
def noop(index: int, due: float) -> None:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(os.environ["REDIS_URL"])
    _redis.rpush(DONE_KEY, f"{index} {due} {time.time()}")
