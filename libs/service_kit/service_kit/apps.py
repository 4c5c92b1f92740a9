"""The kit as a Django app, so that its tables (outbox, processed messages, dead letters) live in each service."""

from django.apps import AppConfig


class ServiceKitConfig(AppConfig):
    name = "service_kit"
    verbose_name = "Service kit"

    def ready(self):
        from . import authentication  # noqa: F401  (registers the OpenAPI description of the JWT scheme)
        from .conf import kit_settings
        from .tracing import setup

        # Before the first request or task: the instrumentations wrap Django's middleware, Celery and psycopg.
        setup(kit_settings.SERVICE_NAME)
