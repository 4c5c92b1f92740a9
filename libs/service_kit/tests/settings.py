"""Settings of the kit's test project: the shared service settings and nothing of its own."""

from pathlib import Path

from service_kit.defaults import service_settings

BASE_DIR = Path(__file__).resolve().parent

# GENERAL
_shared = service_settings(name="kit", base_dir=BASE_DIR, apps=[], uses_redis=True)
globals().update(_shared)
ROOT_URLCONF = "tests.urls"
# The kit's own test messages (tests/asyncapi.yaml), not the platform's.
SERVICE_KIT = {**_shared["SERVICE_KIT"], "CONTRACT_FILE": str(BASE_DIR / "asyncapi.yaml")}
