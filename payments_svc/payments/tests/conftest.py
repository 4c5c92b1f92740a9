"""Fixtures of the payments tests: a gateway that records its calls (`outbox` comes from service_kit.testing)."""

import pytest

from .gateways import RecordingGateway


@pytest.fixture
def gateway(settings):
    RecordingGateway.charges = []
    RecordingGateway.refunds = []
    settings.PAYMENTS_GATEWAY = "payments.tests.gateways.RecordingGateway"
    return RecordingGateway
