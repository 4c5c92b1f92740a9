"""A bare Django project with one view: the read ceiling for the catalogue.

It runs the catalogue's two queries (a count and the first page of 20 products by SKU) against the
inventory database, with the same connection settings as the services (persistent connections) but
no middleware, no authentication, no DRF, no filters: what Django itself costs for that page on
this machine, so the real endpoint can be read as a ratio of it.
"""

import os

import dj_database_url

SECRET_KEY = "bench-ceiling-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.ceiling.views"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
USE_TZ = True
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}  # fmt: skip
