"""One Celery app per service, configured from Django settings (CELERY_*), consuming its own queue."""

import os

from celery import Celery


def make_celery_app(name: str) -> Celery:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    app = Celery(f"{name}_svc")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks()

    @app.task(name=f"{name}.receipt", ignore_result=True)
    def receipt(envelope):
        """A consumer's receipt for a message this service sent: stop sending it again."""
        from .outbox import outbox_acknowledge

        outbox_acknowledge(message_id=envelope["payload"]["message_id"])

    return app
