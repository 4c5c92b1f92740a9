"""Settings of the kit's test project: the shared service settings, its own URLs and its own test messages."""

from pathlib import Path

from service_kit.settings import *
from service_kit.settings import SERVICE_KIT

ROOT_URLCONF = "tests.urls"
# The kit's own test messages (tests/asyncapi.yaml), not the platform's.
SERVICE_KIT = {**SERVICE_KIT, "CONTRACT_FILE": str(Path(__file__).resolve().parent / "asyncapi.yaml")}
