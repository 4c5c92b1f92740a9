"""Fixtures of the payments tests: a gateway that records its calls, and the outbox."""

import pytest
from service_kit.models import OutboxMessage

from .gateways import RecordingGateway


@pytest.fixture
def gateway(settings):
    RecordingGateway.charges = []
    RecordingGateway.refunds = []
    settings.PAYMENTS_GATEWAY = "payments.tests.gateways.RecordingGateway"
    return RecordingGateway


@pytest.fixture
def outbox():
    """A callable giving the (type, payload) of every outbox row, oldest first."""

    def messages() -> list[tuple[str, dict]]:
        return [(row.type, row.envelope["payload"]) for row in OutboxMessage.objects.order_by("id")]

    return messages
