"""Fixtures of the orders tests: a rate limit out of the way, and the outbox as the saga sees it."""

import pytest
from service_kit.models import OutboxMessage


@pytest.fixture(autouse=True)
def generous_rate_limit(settings):
    """Tests place many orders; the one that checks the limit sets its own."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"orders": "10000/min"}}


@pytest.fixture
def outbox():
    """A callable giving the (type, payload) of every outbox row, oldest first."""

    def messages() -> list[tuple[str, dict]]:
        return [(row.type, row.envelope["payload"]) for row in OutboxMessage.objects.order_by("id")]

    return messages
