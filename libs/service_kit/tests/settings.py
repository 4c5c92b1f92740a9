"""Settings of the kit's test project: the shared service settings and nothing of its own."""

from pathlib import Path

from service_kit.defaults import service_settings

BASE_DIR = Path(__file__).resolve().parent

# GENERAL
globals().update(service_settings(name="kit", base_dir=BASE_DIR, apps=[], uses_redis=True))
ROOT_URLCONF = "tests.urls"
