"""Fixtures of the orders tests: a rate limit out of the way (the outbox fixture comes from service_kit.testing)."""

import pytest


@pytest.fixture(autouse=True)
def generous_rate_limit(settings):
    """Tests place many orders; the one that checks the limit sets its own."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"orders": "10000/min"}}
