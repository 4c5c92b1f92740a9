"""The outbox relay command: the scheduler sends what the after-commit publish left and runs the periodic jobs."""

import logging
import signal

import pytest
from django.core.management import call_command
from service_kit.models import OutboxMessage

from . import periodic
from .messaging import unsent_row

pytestmark = pytest.mark.django_db(transaction=True)

RECORD = "tests.periodic.record_call"
EXPLODE = "tests.periodic.explode"
STOP = "tests.periodic.stop_relay_after_three_sweeps"


@pytest.fixture(autouse=True)
def relay_side_effects():
    """The relay installs SIGTERM/SIGINT handlers in this process; put pytest's back afterwards."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    periodic.calls.clear()
    yield
    for number, handler in handlers.items():
        signal.signal(number, handler)
    periodic.calls.clear()


@pytest.fixture
def relay_periodic(settings):
    def configure(*paths: str, interval: float = 1.0) -> None:
        settings.SERVICE_KIT = {**settings.SERVICE_KIT, "RELAY_PERIODIC": list(paths), "RELAY_INTERVAL": interval}

    return configure


def relay_failures(caplog) -> list:
    """The relay's logged errors, each with the traceback of what failed."""
    return [
        record
        for record in caplog.records
        if record.name == "service_kit.messaging.scheduling" and record.levelno >= logging.ERROR and record.exc_info
    ]


def test_relay_once_publishes_the_unsent_rows_oldest_first(kit_queue):
    rows = [unsent_row(payload={"n": n}) for n in range(3)]

    call_command("outbox_relay", "--once")

    assert [task["id"] for task in kit_queue.messages()] == [str(row.message_id) for row in rows]
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


def test_relay_once_with_nothing_to_send_sends_nothing(kit_queue):
    call_command("outbox_relay", "--once")

    assert len(kit_queue) == 0


def test_relay_runs_the_periodic_functions_on_each_sweep(relay_periodic, kit_queue):
    relay_periodic(RECORD)

    call_command("outbox_relay", "--once")

    assert periodic.calls == ["record_call"]


def test_relay_once_survives_a_failing_periodic_function_and_logs_it(relay_periodic, kit_queue, caplog):
    relay_periodic(EXPLODE)
    row = unsent_row()

    call_command("outbox_relay", "--once")

    assert periodic.calls == ["explode"]
    [failure] = relay_failures(caplog)
    assert failure.exc_info[0] is RuntimeError
    assert [task["id"] for task in kit_queue.messages()] == [str(row.message_id)]


def test_relay_keeps_sweeping_after_a_failing_periodic_function_until_sigterm(relay_periodic, kit_queue, caplog):
    relay_periodic(RECORD, STOP, EXPLODE, interval=0.01)

    call_command("outbox_relay")

    assert periodic.calls == ["record_call", "stop", "explode"] * periodic.SWEEPS_BEFORE_STOP
    failures = relay_failures(caplog)
    assert [failure.exc_info[0] for failure in failures] == [RuntimeError] * periodic.SWEEPS_BEFORE_STOP


def test_relay_with_the_broker_down_keeps_the_row_and_does_not_raise(relay_periodic, broker_down, kit_queue):
    relay_periodic(RECORD)
    row = unsent_row()

    call_command("outbox_relay", "--once")

    row.refresh_from_db()
    assert (row.sent_at, row.attempts) == (None, 1)
    assert periodic.calls == ["record_call"]


def test_a_failing_periodic_function_does_not_stop_the_ones_after_it(relay_periodic, kit_queue):
    relay_periodic(EXPLODE, RECORD)

    call_command("outbox_relay", "--once")

    assert periodic.calls == ["explode", "record_call"]
