"""One Celery app per service, configured from Django settings (CELERY_*), consuming its own queue."""

import os

from celery import Celery, signals

# Celery's Django fixup closes the database connection around every task unless CELERY_DB_REUSE_MAX is
# set: a new connection, with its password handshake and a new server process, for every message. Set
# past any count, it leaves the connection to Django's own rules instead (below).
DB_REUSE_MAX = 2**62


def make_celery_app() -> Celery:
    """The app of the service SERVICE_NAME names (its config/__init__.py sets it)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    app = Celery(f"{os.environ['SERVICE_NAME']}_svc")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.CELERY_DB_REUSE_MAX = DB_REUSE_MAX
    # Each service's message handlers (`<app>/handlers.py`), and the kit's receipt task.
    app.autodiscover_tasks(related_name="handlers")
    app.autodiscover_tasks(["service_kit.messaging"], related_name="receipts")
    return app


@signals.worker_init.connect
def worker_starting(**kwargs) -> None:
    from .heartbeat import forget

    forget("worker")


@signals.heartbeat_sent.connect
def worker_heartbeat(**kwargs) -> None:
    """The consumer is connected and consuming: the worker's heartbeat file (service_kit/heartbeat.py)."""
    from .heartbeat import beat

    beat("worker")


@signals.worker_init.connect
def worker_metrics(**kwargs) -> None:
    """The worker's /metrics on its own port (service_kit/metrics.py), as the worker starts."""
    from service_kit.metrics import serve_metrics

    serve_metrics()


@signals.worker_init.connect
def no_health_query_before_each_task(**kwargs) -> None:
    """A worker does not ask `SELECT 1` before each task's first query, as a web request does
    (CONN_HEALTH_CHECKS): a connection the database has dropped fails that task's attempt, the consumer
    retries the message, and before the retry the failed connection is closed (below). Each task would
    otherwise pay one more round trip, some 10 an order across the services."""
    from django.db import connections

    for alias in connections:
        connections.settings[alias]["CONN_HEALTH_CHECKS"] = False


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_old_connections(task=None, **kwargs) -> None:
    """A task is a request: before and after it, a connection that failed or is past CONN_MAX_AGE is closed,
    as Django does around a request. Not for a task applied eagerly: it runs inside its caller's
    transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
