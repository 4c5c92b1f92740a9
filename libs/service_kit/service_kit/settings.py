"""The settings every service shares, read from the environment in one place.

A service's `config/settings.py` starts with `from service_kit.settings import *`, as cookiecutter-django's
settings build on `config/settings/base.py`, then names what is its own (its apps, and any setting of its
own). Every setting here is a plain module-level name, so linters and readers see each one.

Which service is loading is the one thing this module is told: SERVICE_NAME, from the environment. Each
service's `config/__init__.py` sets its default (`os.environ.setdefault("SERVICE_NAME", "orders")`), as
`manage.py` sets DJANGO_SETTINGS_MODULE's, so the settings load the same way under the stack, in the
service's tests, in its image and in `manage.py` run by hand. Every setting that differs only by the name
(database, cookies, static prefix, queue, schema title, log field) is built from it here.

Importing this module only reads the environment and, where they exist, the public key file: it writes
no file and changes no variable. users_svc's key pair is made by its `manage.py jwt_keys` command.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


# READING THE ENVIRONMENT
def env(name: str, default: str | None = None) -> str | None:
    """The variable's value; unset and empty alike give the default."""
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


def read_key(path: str | None) -> str | None:
    """PEM text of a key file, or None while the file does not exist yet (before `manage.py jwt_keys`)."""
    if path and Path(path).is_file():
        return Path(path).read_text()
    return None


# GENERAL: which service this is (users, inventory, orders, payments), and the folder holding the services
# and libs/ (a checkout, or /app in an image).
SERVICE_NAME = env("SERVICE_NAME")
if not SERVICE_NAME:
    raise ImproperlyConfigured("SERVICE_NAME is not set: the service's config/__init__.py sets it")
ROOT_DIR = Path(__file__).resolve().parents[3]
SECRET_KEY = env("DJANGO_SECRET_KEY", f"django-insecure-dev-only-{SERVICE_NAME}")
DEBUG = env_bool("DJANGO_DEBUG")
# DJANGO_TLS=1: the site is served over HTTPS (TLS ends at a proxy in front of nginx).
_TLS = env_bool("DJANGO_TLS")
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8080,http://localhost:8080")
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# APPS: a service adds its own (`INSTALLED_APPS = [*INSTALLED_APPS, "orders"]`).
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "service_kit",
]
MIDDLEWARE = [
    # Every request's view, method, status and duration (service_kit/metrics.py), the other middleware included.
    "service_kit.metrics.HttpMetricsMiddleware",
    "service_kit.request_id.RequestIDMiddleware",
    "service_kit.errors.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The one sign-in for people's browsers: a staff person's cookie opens this service's admin.
    "service_kit.signin.StaffFromCookieMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


# DATABASES: DATABASE_URL, or the service's own database on the local PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"postgres://{SERVICE_NAME}@127.0.0.1:5432/{SERVICE_NAME}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# A database that does not answer a connection fails the request in seconds (a 503 in the API's envelope)
# rather than holding the worker until gunicorn's timeout kills it.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", int(env("DATABASE_CONNECT_TIMEOUT", "5")))

# PASSWORDS
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{validator}"}
    for validator in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

# STATIC FILES: served by WhiteNoise from each service's own prefix, behind nginx. Without collectstatic (tests,
# development) WhiteNoise finds the files where they are.
STATIC_URL = f"/static/{SERVICE_NAME}/"
STATIC_ROOT = env("STATIC_ROOT", str(ROOT_DIR / "var" / "static" / SERVICE_NAME))
WHITENOISE_AUTOREFRESH = DEBUG or env_bool("WHITENOISE_AUTOREFRESH")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# SECURITY: nginx terminates the client connection and overwrites X-Forwarded-*. Four admins share one host:
# each keeps its own cookies, so signing in to one keeps the others.
SESSION_COOKIE_NAME = f"{SERVICE_NAME}_sessionid"
CSRF_COOKIE_NAME = f"{SERVICE_NAME}_csrftoken"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = _TLS
CSRF_COOKIE_SECURE = _TLS
SECURE_SSL_REDIRECT = _TLS
SECURE_REDIRECT_EXEMPT = [r"^api/[a-z]+/health/$"]
SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", "31536000" if _TLS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _TLS
SECURE_HSTS_PRELOAD = _TLS
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# REST FRAMEWORK
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "service_kit.authentication.JWTAuthentication",
        "service_kit.signin.CookieJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # Plain, sane JSON only: deep nesting, duplicate keys and absurd numbers are a 400.
    "DEFAULT_PARSER_CLASSES": ["service_kit.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "service_kit.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "service_kit.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
DRF_STANDARDIZED_ERRORS = {
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "EXCEPTION_HANDLER_CLASS": "service_kit.errors.ExceptionHandler",
    # Every operation may also answer 503 while the service's database is down (service_kit.errors).
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "406", "415", "429", "500", "503"],
    "ERROR_SCHEMAS": {
        "401": "service_kit.openapi.ErrorResponse401Serializer",
        "503": "service_kit.openapi.ErrorResponse503Serializer",
    },
}


# API SCHEMA: the service's paths are those under /api/<name>/ (orders and payments, whose collection is the
# prefix itself, set SCHEMA_PATH_PREFIX to "/api/").
SPECTACULAR_SETTINGS = {
    "TITLE": f"{SERVICE_NAME}_svc API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's assets are served by the service itself, so the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": f"/api/{SERVICE_NAME}/",
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "service_kit.openapi.postprocess_list_indices",
        "service_kit.openapi.postprocess_shared_error_schema",
    ],
}


# JWT: RS256, verified with a public key file or a JWKS URL, never a secret. users_svc adds its signing key.
SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    "SIGNING_KEY": "",
    "VERIFYING_KEY": read_key(env("JWT_PUBLIC_KEY_FILE")),
    "JWK_URL": env("JWT_JWKS_URL"),
    "ISSUER": env("JWT_ISSUER", "shop-users"),
    "AUDIENCE": env("JWT_AUDIENCE", "shop"),
    "LEEWAY": 0,
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(env("JWT_ACCESS_MINUTES", "5"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(env("JWT_REFRESH_DAYS", "7"))),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_USER_CLASS": "service_kit.authentication.ServiceUser",
    "UPDATE_LAST_LOGIN": False,
}

# CELERY: at-least-once delivery on the service's own queue of the shared Redis.
CELERY_BROKER_URL = REDIS_URL
# kombu's Redis transport, less a client object built per publish (service_kit/messaging/broker.py).
CELERY_BROKER_TRANSPORT = "service_kit.messaging.broker:Transport"
CELERY_TASK_DEFAULT_QUEUE = SERVICE_NAME
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task a killed worker held comes back after the visibility timeout: longer than any task
# and any retry countdown, short enough that a saga resumes within a minute.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "60")),
    "socket_connect_timeout": 2,
    # Look for tasks of killed workers every few seconds rather than kombu's ~100 s.
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_IGNORE_RESULT = True
# Workers log through Django's LOGGING (JSON lines with service and request id).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Task events for Flower from the workers (received, started, succeeded, failed, retried), not a `task-sent`
# event from every publisher: it cost ~0.4 ms of each send's ~1.6 ms, and Flower ~a quarter of its work,
# to show a task in the queue that Flower's broker page and Prometheus count anyway.
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = False


# SERVICE KIT: the kit's settings of the service (service_kit/conf.py).
SERVICE_KIT = {
    "SERVICE_NAME": SERVICE_NAME,
    # The repository's contracts/ beside the services' folders (in an image: /app/contracts).
    "CONTRACT_FILE": env("CONTRACT_FILE", str(ROOT_DIR / "contracts" / "asyncapi.yaml")),
    "HEALTH_REDIS_URL": REDIS_URL,
    "RELAY_STALL_AFTER": float(env("RELAY_STALL_AFTER", "120")),
    # Sign-ins and registrations are throttled on the shared Redis, platform-wide (logins.py).
    "LOGIN_REDIS_URL": REDIS_URL,
    "LOGIN_WINDOW": int(env("LOGIN_WINDOW", "900")),
    "LOGIN_ACCOUNT_LIMIT": int(env("LOGIN_ACCOUNT_LIMIT", "5")),
    "LOGIN_ADDRESS_LIMIT": int(env("LOGIN_ADDRESS_LIMIT", "20")),
    "REGISTER_WINDOW": int(env("REGISTER_WINDOW", "3600")),
    "REGISTER_ADDRESS_LIMIT": int(env("REGISTER_ADDRESS_LIMIT", "10")),
}

# LOGGING: one JSON object a line, with the service, the request id and the trace's ids.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "service_kit.request_id.LogContextFilter", "service": SERVICE_NAME}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s %(trace_id)s %(span_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # The consumer logs one line a message, with its type, id and outcome; Celery's own two a task ("received",
    # "succeeded in") said the same again, at ~3 % of a worker's CPU. Its warnings and errors still show.
    "loggers": {
        name: {"level": env("CELERY_TASK_LOG_LEVEL", "WARNING")}
        for name in ("celery.worker.strategy", "celery.app.trace")
    },
}
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "service_kit.roles.ServiceRoleBackend"]
