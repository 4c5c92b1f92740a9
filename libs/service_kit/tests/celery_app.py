"""The test project's Celery app, configured from Django settings like a service's config/celery.py."""

from service_kit.celery import make_celery_app

app = make_celery_app()
