"""Settings of orders_svc: the shared ones from service_kit (built from SERVICE_NAME), then its own."""

from service_kit.settings import *
from service_kit.settings import INSTALLED_APPS, REDIS_URL, REST_FRAMEWORK, SERVICE_KIT, SPECTACULAR_SETTINGS, env

# APPS
INSTALLED_APPS = [*INSTALLED_APPS, "orders"]

# API SCHEMA: the order collection is the prefix itself, so keep "orders" in operation ids and tags.
SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS, "SCHEMA_PATH_PREFIX": "/api/"}

# CACHES: in Redis, so the per-user rate limit holds across every web worker.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "orders",
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# REST FRAMEWORK: placing orders is rate-limited per user (scope "orders").
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"orders": env("ORDERS_RATE", "30/min")},
}

# SAGA: seconds a reserved order waits for its payment before it expires and its stock is released.
ORDER_PAYMENT_TIMEOUT = int(env("ORDER_PAYMENT_TIMEOUT", "120"))
# SAGA: seconds an order waits for an answer before its request goes again (the same message), and
# seconds a pending order may wait for its reservation in all before it is cancelled (`saga_timeout`).
ORDER_RETRY_AFTER = int(env("ORDER_RETRY_AFTER", "30"))
ORDER_SAGA_TIMEOUT = int(env("ORDER_SAGA_TIMEOUT", "300"))
SERVICE_KIT = {
    **SERVICE_KIT,
    "RELAY_PERIODIC": [
        "orders.services.orders_expire_stale",
        "orders.services.orders_drive_stale",
        "orders.reconciliation.reconcile_when_due",
    ],
}

# RECONCILIATION: orders compared with payments and inventory over their internal endpoints, signed in as
# a service client of users_svc (client credentials, scope reconcile:read). See orders/reconciliation.py.
USERS_INTERNAL_URL = env("USERS_INTERNAL_URL", "")
INVENTORY_INTERNAL_URL = env("INVENTORY_INTERNAL_URL", "")
PAYMENTS_INTERNAL_URL = env("PAYMENTS_INTERNAL_URL", "")
SERVICE_CLIENT_ID = env("SERVICE_CLIENT_ID", "")
SERVICE_CLIENT_SECRET = env("SERVICE_CLIENT_SECRET", "")
# Seconds between scheduled runs (0: none), orders changed within how many hours, the most orders a run
# compares, and how recent a change is left alone (the saga's last messages may still be on their way).
RECONCILE_EVERY = int(env("RECONCILE_EVERY", "300"))
RECONCILE_WINDOW_HOURS = float(env("RECONCILE_WINDOW_HOURS", "24"))
RECONCILE_MAX_ORDERS = int(env("RECONCILE_MAX_ORDERS", "10000"))
RECONCILE_SETTLE_SECONDS = int(env("RECONCILE_SETTLE_SECONDS", "300"))
