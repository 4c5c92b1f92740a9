"""Fixtures of the kit's tests; the API clients come from the `service_kit.testing` plugin."""

import io
import json
import logging

import pytest
from service_kit.celery import make_celery_app
from service_kit.request_id import LogContextFilter

from .celery_app import app as celery_app
from .messaging import RedisQueue, closed_port

# `current_app.send_task` (the outbox) publishes through this app in every thread, as in a service.
celery_app.set_default()
celery_app.set_current()


@pytest.fixture
def json_log():
    """The lines the configured JSON console handler writes during the test, parsed."""
    handler = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(item, LogContextFilter) for item in handler.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    handler.setStream(previous)


@pytest.fixture
def kit_queue(settings):
    """The real Redis list of the "kit" queue, empty at the start and cleaned up afterwards."""
    queue = RedisQueue(settings.CELERY_BROKER_URL)
    queue.clear()
    yield queue
    queue.clear()
    queue.client.close()


class BrokerOutage:
    """A Celery app of the service whose broker URL is a closed port, current until `restore()`."""

    def __init__(self):
        self.app = make_celery_app()
        self.app.conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
        self.app.set_default()
        self.app.set_current()

    def restore(self) -> None:
        celery_app.set_default()
        celery_app.set_current()
        self.app.close()


@pytest.fixture
def broker_down():
    outage = BrokerOutage()
    yield outage
    outage.restore()
