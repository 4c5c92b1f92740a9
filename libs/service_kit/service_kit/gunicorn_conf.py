"""gunicorn settings shared by every service's web process (`--config python:service_kit.gunicorn_conf`).

Access lines are JSON, like every other log line, and carry the request id nginx sends.
"""

import os

# nginx refuses, in the API's envelope, a request line or a header line over 8,000 bytes (its
# large_client_header_buffers) and all headers over 32,000: gunicorn's limits are looser (8,190 is its
# largest line, 32,768 its largest count of header fields, more than 32,000 bytes can hold), so no
# request nginx lets through meets gunicorn's HTML error page.
limit_request_line = 8190
limit_request_field_size = 8190
limit_request_fields = 32768

accesslog = "-"
access_log_format = (
    '{"time": "%(t)s", "level": "INFO", "logger": "gunicorn.access", "service": "'
    + os.environ.get("SERVICE_NAME", "")
    + '", "request_id": "%({x-request-id}i)s", "method": "%(m)s", "path": "%(U)s", "status": %(s)s, '
    '"bytes": "%(B)s", "duration_ms": %(M)s}'
)


# Metrics (service_kit/metrics.py): the workers' folder emptied as gunicorn starts, before any worker counts.
# Then the web's priority, which its workers inherit: WEB_NICE (10 by default; 0 leaves it equal to the rest)
# is added to its nice value. When the CPU cannot carry the load, the Celery workers that finish the orders
# already taken run before the web that takes new ones: an order waits in its POST, not as a backlog that
# slows every order behind it. While there is CPU to spare, it changes nothing.
WEB_NICE = 10


def on_starting(server):
    from service_kit.metrics import prepare_metrics_dir

    prepare_metrics_dir()
    os.nice(int(os.environ.get("WEB_NICE") or WEB_NICE))
    preload_libraries()


# The libraries every worker imports, imported once by the master, before it forks its workers: their code and
# data are then shared by the web's processes, where each worker held its own copy (measured on a native stack:
# 175 -> 160 MiB of PSS a web, master and two workers). Only libraries: the service's own code and its settings
# are loaded by each worker, so a graceful reload (HUP, `python -m stack redeploy`) still starts workers on the
# new code, which gunicorn's `preload_app` would not. None of these reads the settings as it is imported (a kit
# test holds them to it).
SHARED_LIBRARIES = (
    "django.core.handlers.wsgi", "django.db.models", "django.db.backends.postgresql.base", "django.forms",
    "django.template.defaulttags", "django.contrib.admin", "django.contrib.auth", "django.urls",
    "django.views.generic", "rest_framework.serializers", "rest_framework.fields", "django_filters", "psycopg",
    "celery", "celery.app.base", "kombu", "kombu.transport.redis", "redis", "requests", "jwt",
    "cryptography.hazmat.primitives.asymmetric.rsa", "opentelemetry.sdk.trace",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter", "opentelemetry.instrumentation.django",
    "opentelemetry.instrumentation.psycopg", "prometheus_client", "yaml", "sqlparse", "pygments.lexers",
    "whitenoise", "pythonjsonlogger.json", "jsonschema_rs", "dateutil.parser",
)  # fmt: skip


def preload_libraries() -> None:
    import gc
    import importlib

    for name in SHARED_LIBRARIES:
        try:
            importlib.import_module(name)
        except ImportError:  # not installed where this conf runs: its workers load what they need
            continue
    # Out of the collector's sight: a worker's collections do not write to (and so copy) the shared pages.
    gc.freeze()


def child_exit(server, worker):
    from service_kit.metrics import process_exited

    process_exited(worker.pid)


# gunicorn's name for its processes ("<service>-web", what --name set): given here, so the web command is the
# same for every service and is the image's CMD as it is.
proc_name = f"{os.environ.get('SERVICE_NAME', 'service')}-web"


# gunicorn's control socket (for `gunicornc`) is off: nothing of the platform talks to it (a redeploy signals the
# master, HUP), the four gunicorns of a native stack would each take the one default path (~/.gunicorn/) from the
# others, and an image's user cannot write its home (/app), where gunicorn logs an error at every start.
control_socket_disable = True
