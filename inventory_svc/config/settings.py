"""Settings of inventory_svc: the shared ones from service_kit, then its own."""

from pathlib import Path

from service_kit.settings import *
from service_kit.settings import INSTALLED_APPS, database, env, kit_config, logging_config, spectacular

# GENERAL: the service's name, and each setting built from it, said here rather than read from the
# environment (see service_kit/settings.py).
SERVICE_NAME = "inventory"
BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = env("DJANGO_SECRET_KEY", f"django-insecure-dev-only-{SERVICE_NAME}")

# APPS
INSTALLED_APPS = [*INSTALLED_APPS, "inventory"]

# DATABASES
DATABASES = {"default": database(SERVICE_NAME)}

# STATIC FILES: each service under its own prefix.
STATIC_URL = f"/static/{SERVICE_NAME}/"
STATIC_ROOT = env("STATIC_ROOT", str(BASE_DIR / "staticfiles"))

# SECURITY: four admins share one host: each keeps its own cookies, so signing in to one keeps the others.
SESSION_COOKIE_NAME = f"{SERVICE_NAME}_sessionid"
CSRF_COOKIE_NAME = f"{SERVICE_NAME}_csrftoken"

# API SCHEMA
SPECTACULAR_SETTINGS = spectacular(SERVICE_NAME)

# CELERY: the service's own queue.
CELERY_TASK_DEFAULT_QUEUE = SERVICE_NAME

# SERVICE KIT
SERVICE_KIT = kit_config(SERVICE_NAME, base_dir=BASE_DIR)

# LOGGING
LOGGING = logging_config(SERVICE_NAME)
