"""Settings of users_svc: the shared ones from service_kit, then its own."""

from pathlib import Path

from service_kit.defaults import service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

# GENERAL
globals().update(service_settings(name="users", base_dir=BASE_DIR, apps=["accounts"]))
