"""Settings of inventory_svc: the shared ones from service_kit (built from SERVICE_NAME), then its own."""

from service_kit.settings import *
from service_kit.settings import INSTALLED_APPS

# APPS
INSTALLED_APPS = [*INSTALLED_APPS, "inventory"]
