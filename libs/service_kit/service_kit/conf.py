"""The kit's own settings: one namespaced `SERVICE_KIT` dict, read lazily like DRF's api_settings."""

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS = {
    # Name used in log lines, health answers and Celery queue names.
    "SERVICE_NAME": "service",
    # The message contract (AsyncAPI 3): what this service may send and receive, on which queues.
    "CONTRACT_FILE": "contracts/asyncapi.yaml",
    # Redis URL checked by the health view; None when the service does not use Redis.
    "HEALTH_REDIS_URL": None,
    # Consumers: retries with exponential backoff (seconds, capped), then the dead-letter table.
    "MESSAGE_MAX_RETRIES": 5,
    "MESSAGE_MAX_BACKOFF": 30,
    # Outbox relay: seconds between sweeps, days sent rows are kept, and dotted paths of
    # functions it also runs every sweep (a service's periodic work, e.g. expiring reservations).
    "RELAY_INTERVAL": 1.0,
    # Seconds a sweep may take before the relay counts itself wedged and exits (heartbeat.py).
    "RELAY_STALL_AFTER": 120.0,
    "OUTBOX_RETENTION_DAYS": 7,
    "RELAY_PERIODIC": [],
    # Seconds without a receipt before a sent message goes again (longer after each attempt), and how
    # many times at most. Longer than a queue's wait under a burst, or the copies would feed the backlog.
    "REDELIVER_AFTER": 45,
    "MAX_REDELIVERIES": 10,
    # No message goes again to a queue holding more than this many (nor while this service's receipts
    # queue does): the message, or its receipt, may still be waiting there.
    "REDELIVER_BACKLOG": 100,
    # Seconds the relay leaves a new row to the after-commit send before it sends it itself.
    "PUBLISH_GRACE": 2.0,
    # JWKS mode (JWT_JWKS_URL): the least seconds between two fetches of the key set, whatever
    # `kid` a token names, so forged kids cannot turn every request into a call to users_svc.
    "JWKS_MIN_REFRESH_SECONDS": 60,
    # Sign-in throttling (logins.py), on this Redis (None: off). Failed sign-ins allowed per account and
    # per client address within a window of LOGIN_WINDOW seconds from the first; registrations per
    # address within REGISTER_WINDOW. The keys are shared by every service using the same prefix.
    "LOGIN_REDIS_URL": None,
    "LOGIN_KEY_PREFIX": "logins",
    "LOGIN_WINDOW": 900,
    "LOGIN_ACCOUNT_LIMIT": 5,
    "LOGIN_ADDRESS_LIMIT": 20,
    "REGISTER_WINDOW": 3600,
    "REGISTER_ADDRESS_LIMIT": 10,
}


class KitSettings:
    def __init__(self):
        self._cache = {}

    def __getattr__(self, name):
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown SERVICE_KIT setting {name!r}")
        if name not in self._cache:
            user = getattr(settings, "SERVICE_KIT", {})
            self._cache[name] = user.get(name, DEFAULTS[name])
        return self._cache[name]

    def reload(self):
        self._cache.clear()


kit_settings = KitSettings()


def _reload(*, setting, **kwargs):
    if setting == "SERVICE_KIT":
        kit_settings.reload()


setting_changed.connect(_reload)
