"""The kit as a Django app, so that its tables (outbox, processed messages, dead letters) live in each service."""

from django.apps import AppConfig


class ServiceKitConfig(AppConfig):
    name = "service_kit"
    verbose_name = "Service kit"

    def ready(self):
        from django.db.backends.signals import connection_created

        from . import authentication  # noqa: F401  (registers the OpenAPI description of the JWT scheme)
        from .conf import kit_settings
        from .metrics import count_queries
        from .tracing import setup

        # Before the first request or task: the instrumentations wrap Django's middleware, Celery and psycopg.
        setup(kit_settings.SERVICE_NAME)

        # Django's hook for setting up each new database connection: its statements are counted.
        connection_created.connect(count_queries, dispatch_uid="service_kit.metrics.count_queries")
