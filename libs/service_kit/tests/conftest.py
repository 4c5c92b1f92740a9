"""Fixtures of the kit's tests; the API clients come from the `service_kit.testing` plugin."""

import io
import json
import logging

import pytest
from service_kit.request_id import LogContextFilter


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
