"""users_svc's Django project: settings, URLs, WSGI and Celery app.

The shared settings (service_kit.settings) are built from the service's name; it is said here, the one
module every entry point imports first (manage.py, gunicorn, Celery, pytest). The stack and the image set
the same name.
"""

import os

os.environ.setdefault("SERVICE_NAME", "users")

from .celery import app as celery_app

__all__ = ["celery_app"]
