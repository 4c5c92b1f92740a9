"""Idempotent consumers: one effect per message id, retries with backoff, then the dead-letter table.

Handlers are real Celery tasks (tests/handlers.py); `apply` runs them in-process as a worker would, and
a worker's request (`push_request`) shows the retry a worker sends back to Redis.
"""

import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from celery.exceptions import Retry
from django.db import connection
from service_kit.conf import kit_settings
from service_kit.messaging.consumer import process_once
from service_kit.messaging.dead_letters import malformed_message_id
from service_kit.messaging.envelope import Message
from service_kit.models import DeadLetter, OutboxMessage, ProcessedMessage
from service_kit.request_id import get_request_id, reset_request_id, set_request_id

from .handlers import REPLY_TYPE, fail_after_effect, handled, picky_handler, record_effect, reply_to, strict_handler
from .messaging import message

committed = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def nothing_handled_yet():
    handled.clear()
    yield
    handled.clear()


def replies() -> list[dict]:
    return [row.envelope for row in OutboxMessage.objects.filter(type=REPLY_TYPE)]


@pytest.fixture
def outer_request_id():
    token = set_request_id("outer-request")
    yield "outer-request"
    reset_request_id(token)


def failing(message: Message) -> None:
    reply_to(message)
    raise RuntimeError("handler failed")


@pytest.mark.django_db
def test_process_once_runs_the_handler_once_per_message_id():
    seen = []

    def handler(message: Message) -> None:
        seen.append(message.id)
        reply_to(message)

    sent = message()

    assert process_once(handler, sent) is True
    assert process_once(handler, Message.from_dict(sent.as_dict())) is False

    assert seen == [sent.id]
    assert len(replies()) == 1
    assert ProcessedMessage.objects.get().message_id == uuid.UUID(sent.id)


@pytest.mark.django_db
def test_process_once_runs_the_handler_for_each_distinct_message():
    assert process_once(reply_to, message()) is True
    assert process_once(reply_to, message()) is True

    assert len(replies()) == 2


@pytest.mark.django_db
def test_failing_handler_rolls_back_its_effect_and_the_processed_record():
    sent = message()

    with pytest.raises(RuntimeError, match="handler failed"):
        process_once(failing, sent)

    assert replies() == []
    assert not ProcessedMessage.objects.exists()
    assert process_once(reply_to, sent) is True
    assert len(replies()) == 1


@committed
def test_same_message_processed_by_two_threads_at_once_has_one_effect(kit_queue):
    sent = message()
    start = threading.Barrier(2)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def slow_handler(message: Message) -> None:
        reply_to(message)
        time.sleep(0.3)  # hold the transaction open while the other thread arrives

    def worker():
        try:
            start.wait()
            outcomes.append(process_once(slow_handler, Message.from_dict(sent.as_dict())))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(outcomes) == [False, True]
    assert len(replies()) == 1
    assert ProcessedMessage.objects.count() == 1
    assert [task["args"][0]["payload"]["for"] for task in kit_queue.messages()] == [sent.id]


@pytest.mark.django_db
def test_consumed_message_is_processed_with_its_effect():
    sent = message("kit.test_effect", correlation_id="corr-1")

    result = record_effect.apply(args=[sent.as_dict()])

    assert result.get() == "processed"
    [reply] = replies()
    assert reply["payload"]["for"] == sent.id
    assert ProcessedMessage.objects.filter(message_id=sent.id, type="kit.test_effect").exists()


@pytest.mark.django_db
def test_redelivered_message_is_a_duplicate_without_a_second_effect():
    envelope = message("kit.test_effect").as_dict()

    assert record_effect.apply(args=[envelope]).get() == "processed"
    assert record_effect.apply(args=[envelope]).get() == "duplicate"

    assert len(replies()) == 1
    assert ProcessedMessage.objects.count() == 1


@pytest.mark.django_db
def test_handler_sees_the_correlation_id_as_request_id_and_it_is_reset_afterwards(outer_request_id):
    sent = message("kit.test_effect", correlation_id="corr-from-the-order")

    record_effect.apply(args=[sent.as_dict()])

    [reply] = replies()
    assert reply["payload"]["request_id"] == "corr-from-the-order"
    assert reply["correlation_id"] == "corr-from-the-order"
    assert get_request_id() == outer_request_id


@pytest.mark.django_db
def test_message_without_correlation_id_runs_without_a_request_id(outer_request_id):
    record_effect.apply(args=[message("kit.test_effect").as_dict()])

    assert replies()[0]["payload"]["request_id"] is None
    assert get_request_id() == outer_request_id


def worker_attempt(task, envelope: dict, *, retries: int):
    """Run the task body under the request a worker gives a delivery from the "kit" queue."""
    task.push_request(
        id=envelope["id"],
        args=[envelope],
        kwargs={},
        retries=retries,
        delivery_info={"exchange": "", "routing_key": "kit"},
        called_directly=False,
        is_eager=False,
    )
    try:
        return task.run(envelope)
    finally:
        task.pop_request()


@pytest.mark.django_db
@pytest.mark.parametrize(("retries", "countdown"), [(0, 1), (1, 2), (3, 8)])
def test_failure_with_retries_left_sends_the_message_back_with_backoff(retries, countdown, kit_queue, outer_request_id):
    sent = message("kit.test_failure", correlation_id="corr-retry")

    with pytest.raises(Retry) as raised:
        worker_attempt(fail_after_effect, sent.as_dict(), retries=retries)

    assert raised.value.when == countdown
    [retry] = kit_queue.messages()
    assert retry["task"] == "kit.test_failure"
    assert retry["id"] == sent.id
    assert retry["args"] == [sent.as_dict()]
    assert retry["headers"]["retries"] == retries + 1
    delay = datetime.fromisoformat(retry["headers"]["eta"]) - datetime.now(UTC)
    assert countdown - 2 < delay.total_seconds() <= countdown
    assert replies() == []
    assert not ProcessedMessage.objects.exists()
    assert not DeadLetter.objects.exists()
    assert get_request_id() == outer_request_id


@pytest.mark.django_db
def test_retry_backoff_is_capped(settings, kit_queue):
    settings.SERVICE_KIT = {**settings.SERVICE_KIT, "MESSAGE_MAX_RETRIES": 10, "MESSAGE_MAX_BACKOFF": 30}

    with pytest.raises(Retry) as raised:
        worker_attempt(fail_after_effect, message("kit.test_failure").as_dict(), retries=7)

    assert raised.value.when == 30


@pytest.mark.django_db
def test_failure_at_the_last_retry_is_dead_lettered_with_envelope_and_error(kit_queue):
    sent = message("kit.test_failure", payload={"order_id": "o-1"})

    result = fail_after_effect.apply(args=[sent.as_dict()], retries=kit_settings.MESSAGE_MAX_RETRIES)

    assert result.get() == "dead_lettered"
    letter = DeadLetter.objects.get()
    assert letter.message_id == uuid.UUID(sent.id)
    assert letter.type == "kit.test_failure"
    assert letter.envelope == sent.as_dict()
    assert letter.error == "HandlerFailed('handler failed')"
    assert letter.replayed_at is None
    assert replies() == []
    assert not ProcessedMessage.objects.exists()
    assert len(kit_queue) == 0


@pytest.mark.django_db
def test_eagerly_applied_failure_is_retried_until_the_last_retry_then_dead_lettered_once(caplog):
    max_retries = kit_settings.MESSAGE_MAX_RETRIES

    result = fail_after_effect.apply(args=[message("kit.test_failure").as_dict()], retries=max_retries - 2)

    assert result.get() == "dead_lettered"
    retried = [record.retries for record in caplog.records if record.getMessage() == "message failed; retrying"]
    assert retried == [max_retries - 2, max_retries - 1]
    assert DeadLetter.objects.count() == 1


@pytest.mark.django_db
def test_dead_letter_limit_follows_the_setting(settings):
    settings.SERVICE_KIT = {**settings.SERVICE_KIT, "MESSAGE_MAX_RETRIES": 0}

    assert fail_after_effect.apply(args=[message("kit.test_failure").as_dict()]).get() == "dead_lettered"
    assert DeadLetter.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "envelope",
    [
        "not an envelope",
        ["a", "list"],
        {},
        {"id": "not-a-uuid", "type": "kit.test_effect", "producer": "kit", "payload": {}, "occurred_at": "now"},
        {"id": str(uuid.uuid4()), "type": "kit.test_effect", "producer": "kit", "payload": [], "occurred_at": "now"},
    ],
    ids=["str", "list", "empty", "bad-id", "list-payload"],
)
def test_malformed_envelope_is_dead_lettered_without_running_the_handler(envelope):
    result = record_effect.apply(args=[envelope])

    assert result.get() == "dead_lettered"
    letter = DeadLetter.objects.get()
    assert letter.envelope == envelope
    assert letter.message_id == uuid.UUID(malformed_message_id(envelope))
    assert letter.type == "kit.test_effect"
    assert letter.error.startswith("malformed envelope: ")
    assert replies() == []
    assert not ProcessedMessage.objects.exists()


@pytest.mark.django_db
def test_each_malformed_envelope_has_a_dead_letter_of_its_own_and_a_copy_joins_it():
    first, second = {"type": "kit.test_effect", "n": 1}, {"type": "kit.test_effect", "n": 2}

    for envelope in (first, second, first):
        assert record_effect.apply(args=[envelope]).get() == "dead_lettered"

    assert sorted(letter.envelope["n"] for letter in DeadLetter.objects.all()) == [1, 2]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"order_id": "not-a-uuid", "quantity": 2}, 'order_id: "not-a-uuid" is not a "uuid"'),
        ({"order_id": str(uuid.uuid4())}, '"quantity" is a required property'),
        ({"order_id": str(uuid.uuid4()), "quantity": 0}, "quantity: 0 is less than the minimum of 1"),
        ({"order_id": str(uuid.uuid4()), "quantity": 2, "extra": 1}, "Additional properties are not allowed"),
    ],
    ids=["bad-uuid", "missing", "too-small", "extra"],
)
def test_a_payload_that_breaks_the_contract_is_dead_lettered_once_with_its_errors_and_answered(
    payload, reason, kit_queue
):
    sent = message("kit.strict", payload=payload)

    for _ in range(2):
        assert strict_handler.apply(args=[sent.as_dict()]).get() == "dead_lettered"

    letter = DeadLetter.objects.get()
    assert letter.message_id == uuid.UUID(sent.id)
    assert "payload breaks the contract" in letter.error and reason in letter.error, letter.error
    assert handled == []
    assert not ProcessedMessage.objects.exists()
    # It did arrive: each copy is answered, so the producer stops sending it.
    assert OutboxMessage.objects.filter(type="kit.receipt", envelope__payload__message_id=sent.id).count() == 2


@pytest.mark.django_db
def test_a_message_of_a_version_the_consumer_does_not_know_is_dead_lettered_not_guessed_at(kit_queue):
    sent = message("kit.strict", payload={"order_id": str(uuid.uuid4()), "quantity": 2}, version=3)

    assert strict_handler.apply(args=[sent.as_dict()]).get() == "dead_lettered"

    assert "no message 'kit.strict' version 3" in DeadLetter.objects.get().error
    assert handled == []


@pytest.mark.django_db
def test_a_version_the_consumer_does_not_receive_is_dead_lettered(kit_queue):
    sent = message("kit.strict", payload={"anything": True}, version=2)

    assert strict_handler.apply(args=[sent.as_dict()]).get() == "dead_lettered"

    assert "kit does not receive 'kit.strict'" in DeadLetter.objects.get().error
    assert handled == []


@pytest.mark.django_db
def test_a_valid_message_of_the_contract_reaches_its_handler(kit_queue):
    payload = {"order_id": str(uuid.uuid4()), "quantity": 2}

    assert strict_handler.apply(args=[message("kit.strict", payload=payload).as_dict()]).get() == "processed"

    assert handled == [payload]
    assert not DeadLetter.objects.exists()


@pytest.mark.django_db
def test_a_payload_its_handler_refuses_is_dead_lettered_at_once_without_retries(kit_queue):
    sent = message("kit.ping", payload={"quantity": "many"})

    assert picky_handler.apply(args=[sent.as_dict()]).get() == "dead_lettered"

    letter = DeadLetter.objects.get()
    assert "refused by its handler" in letter.error
    assert not ProcessedMessage.objects.exists()


def test_message_handler_makes_a_task_named_by_the_message_type_that_keeps_the_handler():
    assert record_effect.name == "kit.test_effect"
    assert fail_after_effect.name == "kit.test_failure"
    assert record_effect.handler.__name__ == "record_effect"


@pytest.mark.django_db
def test_a_redelivered_copy_failing_again_joins_the_open_dead_letter():
    from django.utils import timezone
    from service_kit.messaging.dead_letters import dead_letter_record

    sent = message("kit.test_failure")
    for _ in range(2):
        dead_letter_record(envelope=sent.as_dict(), message_id=sent.id, message_type=sent.type, error="boom")
    assert DeadLetter.objects.filter(message_id=sent.id).count() == 1

    DeadLetter.objects.filter(message_id=sent.id).update(replayed_at=timezone.now())
    dead_letter_record(envelope=sent.as_dict(), message_id=sent.id, message_type=sent.type, error="boom again")
    assert DeadLetter.objects.filter(message_id=sent.id).count() == 2


@pytest.fixture
def database_settings():
    """The connections' settings as they were, after a test that changes them."""
    from django.db import connections

    saved = {alias: dict(connections.settings[alias]) for alias in connections}
    yield connections
    for alias, settings_dict in saved.items():
        connections.settings[alias].clear()
        connections.settings[alias].update(settings_dict)


@pytest.mark.django_db
def test_a_worker_connects_without_a_health_query_before_each_task(database_settings):
    from service_kit.celery import no_health_query_before_each_task

    web = database_settings.create_connection("default")
    web.connect()
    no_health_query_before_each_task()  # the worker_init signal's receiver
    worker = database_settings.create_connection("default")
    worker.connect()
    try:
        assert web.health_check_enabled
        assert not worker.health_check_enabled
    finally:
        web.close()
        worker.close()
