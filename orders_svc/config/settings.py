"""Settings of orders_svc: the shared ones from service_kit, then its own."""

from pathlib import Path

from service_kit.defaults import env, service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

# GENERAL
_shared = service_settings(name="orders", base_dir=BASE_DIR, apps=["orders"])
globals().update(_shared)

# CACHES: in Redis, so the per-user rate limit holds across every web worker.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": "orders",
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# REST FRAMEWORK: placing orders is rate-limited per user (scope "orders").
REST_FRAMEWORK = {
    **_shared["REST_FRAMEWORK"],
    "DEFAULT_THROTTLE_RATES": {"orders": env("ORDERS_RATE", "30/min")},
}

# API SCHEMA: the order collection is the prefix itself, so keep "orders" in operation ids and tags.
SPECTACULAR_SETTINGS = {**_shared["SPECTACULAR_SETTINGS"], "SCHEMA_PATH_PREFIX": "/api/"}

# SAGA: seconds a reserved order waits for its payment before it expires and its stock is released.
ORDER_PAYMENT_TIMEOUT = int(env("ORDER_PAYMENT_TIMEOUT", "120"))
SERVICE_KIT = {**_shared["SERVICE_KIT"], "RELAY_PERIODIC": ["orders.services.orders_expire_stale"]}
