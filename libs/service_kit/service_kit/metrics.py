"""Prometheus metrics: events counted where they happen, figures of the database read when scraped.

prometheus-client in its multiprocess mode, one folder (PROMETHEUS_MULTIPROC_DIR) per process group of a
service: its gunicorn, its Celery worker, its relay. gunicorn's workers are several processes behind one
port, so each writes its own file and whichever answers `/metrics` (on the service's private web port)
sums them all; the worker and the relay answer on a port of their own (METRICS_PORT, `serve_metrics`), the
worker's sum including a prefork pool's children. Not one folder for all of a service's processes served by
its web alone: in Compose they are separate containers that share no files, and a target per process group
also tells Prometheus which one is down. Not django-prometheus: its export view leaves custom collectors out
in multiprocess mode, its database metrics need its own database engine in the settings, and its dozen
metric families per request cost more than the one histogram here.

Events (a request served, a query run, a message processed, an order confirmed) are counters or histograms
incremented once, in the process where they happen; a service's own count at a transition goes after its
transaction commits (`on_commit`), so a rolled-back one is not counted. Figures that live in a database
(unsent outbox rows, open dead letters, orders in flight, reservations held) are read by collectors when the
web endpoint is scraped, never by the worker's or relay's: one query per scrape, right whichever process
wrote the rows, nothing counted twice. A service adds its own in its app's `metrics.py` (`@scrape_collector`).
Without PROMETHEUS_MULTIPROC_DIR (tests, `manage.py` by hand) the metrics live in the process as usual.
"""

import logging
import os
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)

# Seconds: from a few milliseconds (a request, a hop on an idle stack) to past the saga's alert (2 s) and
# a backlog's minutes.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)

HTTP_REQUESTS = Histogram(
    "http_request_duration_seconds",
    "HTTP requests served, by view (URL name), method and status, and how long each took.",
    ["view", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
DB_QUERIES = Counter(
    "db_queries", "Database statements sent, by connection alias and statement kind.", ["alias", "statement"]
)
MESSAGES_CONSUMED = Counter(
    "messages_consumed", "Messages received, by type and outcome (processed, duplicate, dead_lettered).",
    ["type", "outcome"],
)  # fmt: skip
SAGA_HOP = Histogram(
    "message_hop_seconds",
    "From a message's creation (its envelope's occurred_at) to its processing by the consumer, by type.",
    ["type"],
    buckets=LATENCY_BUCKETS,
)
REDELIVERIES = Counter("outbox_redeliveries", "Messages sent again for want of a receipt, by type.", ["type"])

_STATEMENTS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "SAVEPOINT", "RELEASE", "ROLLBACK", "WITH"})


# EVENTS
def _count_query(execute, sql, params, many, context):
    words = sql.lstrip()[:9].split(None, 1) if isinstance(sql, str) else ()
    word = words[0].upper() if words else ""
    DB_QUERIES.labels(context["connection"].alias, word if word in _STATEMENTS else "OTHER").inc()
    return execute(sql, params, many, context)


def count_queries(*, connection, **kwargs) -> None:
    """Every statement of a new database connection counted (Django's `connection_created`, once a
    connection: a reconnect of the same wrapper keeps its one counter)."""
    if _count_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_query)


class HttpMetricsMiddleware:
    """Each request in HTTP_REQUESTS, labelled by the URL's name (its route where it has none)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route) if match else "unmatched"
        HTTP_REQUESTS.labels(view, request.method, str(response.status_code)).observe(time.perf_counter() - started)
        return response


def message_consumed(*, type: str, outcome: str, occurred_at: str | None = None) -> None:
    """A received message's outcome; a processed one's hop from its creation to now."""
    MESSAGES_CONSUMED.labels(type, outcome).inc()
    if outcome == "processed" and occurred_at:
        try:
            created = datetime.fromisoformat(occurred_at)
        except (TypeError, ValueError):
            return
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        SAGA_HOP.labels(type).observe(max((timezone.now() - created).total_seconds(), 0.0))


# FIGURES READ AT SCRAPE TIME
_collectors: list[Callable[[], Iterable[Metric]]] = []


def scrape_collector(function: Callable[[], Iterable[Metric]]) -> Callable[[], Iterable[Metric]]:
    """Register a function that reads figures (from the database) and yields metric families, run when the
    web's `/metrics` is scraped. Put it in an app's `metrics.py`: those modules are found at the first scrape."""
    _collectors.append(function)
    return function


def gauge(name: str, documentation: str, value: float | None = None, *, labels: Iterable[str] = (), samples=()):
    family = GaugeMetricFamily(name, documentation, value=value, labels=list(labels) or None)
    for label_values, sample in samples:
        family.add_metric(label_values, sample)
    return family


@scrape_collector
def outbox_figures() -> Iterable[Metric]:
    """Unsent outbox rows and the age of the oldest; open dead letters."""
    from .models import DeadLetter, OutboxMessage

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), EXTRACT(EPOCH FROM now() - min(created_at)) "  # noqa: S608 (table name)
            f"FROM {OutboxMessage._meta.db_table} WHERE sent_at IS NULL"
        )
        unsent, oldest = cursor.fetchone()
    yield gauge("outbox_unsent_messages", "Outbox rows not sent yet.", unsent)
    yield gauge("outbox_oldest_unsent_age_seconds", "Age of the oldest unsent outbox row (0: none).", oldest or 0)
    open_letters = DeadLetter.objects.filter(replayed_at__isnull=True).count()
    yield gauge("dead_letters_open", "Dead letters no operator has replayed or closed.", open_letters)


@scrape_collector
def queue_figures() -> Iterable[Metric]:
    """Messages waiting in each queue this service consumes (its saga queue and its receipts queue)."""
    from .conf import kit_settings
    from .messaging.contract import contract
    from .messaging.relay import queue_backlog

    queues = contract().queues_of(kit_settings.SERVICE_NAME)
    if not queues:
        return
    samples = [([queue], queue_backlog(queue)) for queue in queues]
    yield gauge("queue_messages", "Messages waiting in a queue of the broker.", labels=["queue"], samples=samples)


# EXPOSITION
class _ThisProcess:
    """The process's own metrics, where there is no multiprocess folder."""

    def collect(self):
        return REGISTRY.collect()


class _Scraped:
    """The registered collectors' figures, each read now."""

    def collect(self):
        for function in _collectors:
            try:
                yield from function()
            except Exception:  # the database or the broker is down: the process's own metrics still answer
                logger.exception("metrics collector failed", extra={"collector": function.__name__})


def _multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_registry() -> CollectorRegistry:
    """The metrics of this process group: every process's file in the folder, else this process's own."""
    registry = CollectorRegistry(auto_describe=True)
    if _multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    return registry


_web_registry: CollectorRegistry | None = None


def metrics_view(request) -> HttpResponse:
    """`/metrics` on the web port (nginx does not route it): the process group's events and the database's
    figures."""
    global _web_registry
    if _web_registry is None:
        autodiscover_modules("metrics")
        registry = process_registry()
        registry.register(_Scraped())
        _web_registry = registry
    return HttpResponse(generate_latest(_web_registry), content_type=CONTENT_TYPE_LATEST)


def prepare_metrics_dir() -> None:
    """Empty the process group's folder as the group starts, before any of its processes counts anything:
    files of processes gone would otherwise add to the new ones' figures for ever."""
    folder = _multiprocess_dir()
    if folder is None:
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def process_exited(pid: int) -> None:
    """A process of the group is gone (gunicorn's child_exit): its live gauges no longer count."""
    if _multiprocess_dir():
        multiprocess.mark_process_dead(pid)


def serve_metrics() -> None:
    """The worker's and the relay's `/metrics` on METRICS_PORT (none where it is unset), in a thread."""
    port = os.environ.get("METRICS_PORT")
    if not port:
        return
    prepare_metrics_dir()
    start_http_server(int(port), addr=os.environ.get("METRICS_ADDRESS", "127.0.0.1"), registry=process_registry())
