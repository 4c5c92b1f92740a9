"""Settings of payments_svc: the shared ones from service_kit, then its own."""

from pathlib import Path

from service_kit.defaults import env, service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

# GENERAL
_shared = service_settings(name="payments", base_dir=BASE_DIR, apps=["payments"])
globals().update(_shared)

# API SCHEMA: the payment collection is the prefix itself, so keep "payments" in operation ids and tags.
SPECTACULAR_SETTINGS = {**_shared["SPECTACULAR_SETTINGS"], "SCHEMA_PATH_PREFIX": "/api/"}

# PAYMENTS: the card gateway adapter, a dotted path to a class (the simulated gateway by default).
PAYMENTS_GATEWAY = env("PAYMENTS_GATEWAY", "payments.gateway.SimulatedCardGateway")
