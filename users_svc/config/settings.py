"""Settings of users_svc: the shared ones from service_kit, then its own."""

from pathlib import Path

from service_kit.settings import *
from service_kit.settings import (
    INSTALLED_APPS,
    SIMPLE_JWT,
    database,
    env,
    kit_config,
    logging_config,
    read_key,
    spectacular,
)

# GENERAL: the service's name, and each setting built from it, said here rather than read from the
# environment (see service_kit/settings.py).
SERVICE_NAME = "users"
BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = env("DJANGO_SECRET_KEY", f"django-insecure-dev-only-{SERVICE_NAME}")

# APPS
INSTALLED_APPS = [
    *INSTALLED_APPS,
    "accounts",
    "service_clients",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
]

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

# AUTHENTICATION
AUTH_USER_MODEL = "accounts.User"

# JWT: users_svc signs with its private key. `manage.py jwt_keys` makes the pair when missing (the stack runs it
# before the web starts); until then the keys read as empty, so that command itself can load these settings.
_KEYS_DIR = BASE_DIR.parent / "var" / "keys"
JWT_PRIVATE_KEY_FILE = env("JWT_PRIVATE_KEY_FILE", str(_KEYS_DIR / "jwt_private.pem"))
JWT_PUBLIC_KEY_FILE = env("JWT_PUBLIC_KEY_FILE", str(_KEYS_DIR / "jwt_public.pem"))
SIMPLE_JWT = {
    **SIMPLE_JWT,
    "SIGNING_KEY": read_key(JWT_PRIVATE_KEY_FILE) or "",
    "VERIFYING_KEY": read_key(JWT_PUBLIC_KEY_FILE),
    # The signer verifies with its own key, never through a JWKS URL.
    "JWK_URL": None,
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}
