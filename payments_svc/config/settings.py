"""Settings of payments_svc: the shared ones from service_kit (built from SERVICE_NAME), then its own."""

from service_kit.settings import *
from service_kit.settings import INSTALLED_APPS, SPECTACULAR_SETTINGS, env

# APPS
INSTALLED_APPS = [*INSTALLED_APPS, "payments"]

# API SCHEMA: the payment collection is the prefix itself, so keep "payments" in operation ids and tags.
SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS, "SCHEMA_PATH_PREFIX": "/api/"}

# PAYMENTS: the card gateway adapter, a dotted path to a class (the simulated gateway by default).
PAYMENTS_GATEWAY = env("PAYMENTS_GATEWAY", "payments.gateway.SimulatedCardGateway")
