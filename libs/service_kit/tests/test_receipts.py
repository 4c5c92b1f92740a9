"""Delivery receipts: a consumer answers every message, with its reply or a receipt; the producer sends again
what got neither."""

from datetime import timedelta

import pytest
from django.utils import timezone
from service_kit.conf import kit_settings
from service_kit.messaging.consumer import process_once
from service_kit.messaging.envelope import Message
from service_kit.messaging.outbox import broker_send
from service_kit.messaging.receipts import outbox_acknowledge, receipts_queue, receipts_send
from service_kit.messaging.relay import outbox_publish, outbox_redeliver
from service_kit.models import OutboxMessage

from .celery_app import app
from .handlers import effect_done, fail_after_effect, record_effect, reply_to, strict_handler
from .messaging import RedisQueue, message, one_way, unsent_row

committed = pytest.mark.django_db(transaction=True)


def receipts_for(message_id: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(type="kit.receipt", envelope__payload__message_id=message_id))


def sent_row(*, seconds_ago: float, attempts: int = 1, type: str = "kit.ping") -> OutboxMessage:
    row = unsent_row(type)
    row.sent_at = timezone.now() - timedelta(seconds=seconds_ago)
    row.attempts = attempts
    row.save()
    return row


@committed
def test_a_processed_message_is_answered_with_a_receipt_that_expects_none(kit_queue):
    sent = one_way(correlation_id="req-1")

    assert strict_handler.apply(args=[sent.as_dict()]).get() == "processed"

    [receipt] = receipts_for(sent.id)
    assert receipt.expects_receipt is False
    assert receipt.envelope["correlation_id"] == "req-1"
    assert receipt.envelope["producer"] == kit_settings.SERVICE_NAME


@committed
def test_a_duplicate_is_answered_again_since_the_first_receipt_may_be_lost(kit_queue):
    envelope = one_way().as_dict()

    strict_handler.apply(args=[envelope])
    assert strict_handler.apply(args=[envelope]).get() == "duplicate"

    assert len(receipts_for(envelope["id"])) == 2


@committed
def test_a_request_answered_by_its_reply_needs_no_receipt_the_reply_names_it(kit_queue):
    request = message("kit.test_effect")

    assert record_effect.apply(args=[request.as_dict()]).get() == "processed"

    assert receipts_for(request.id) == []
    [reply] = OutboxMessage.objects.filter(type="kit.effect_done")
    assert reply.envelope["in_reply_to"] == request.id
    # Nor does the reply: were it lost, the request would be sent again and answered with it again.
    assert reply.expects_receipt is False


@committed
def test_processing_a_reply_acknowledges_its_request_at_the_producer(kit_queue):
    request = sent_row(seconds_ago=1, type="kit.test_effect")
    record_effect.apply(args=[request.envelope])
    [reply] = OutboxMessage.objects.filter(type="kit.effect_done")

    assert effect_done.apply(args=[reply.envelope]).get() == "processed"

    request.refresh_from_db()
    assert request.acknowledged_at is not None
    assert receipts_for(reply.envelope["id"]) == []  # a reply needs no receipt of its own
    kit_queue.clear()
    row = sent_row(seconds_ago=kit_settings.REDELIVER_AFTER + 1)
    assert outbox_redeliver() == 1  # only the row nothing answered goes again
    assert [task["id"] for task in kit_queue.messages()] == [str(row.message_id)]


@committed
def test_every_copy_of_a_reply_acknowledges_its_request_and_none_is_answered_with_a_receipt(kit_queue):
    request = sent_row(seconds_ago=1, type="kit.test_effect")
    record_effect.apply(args=[request.envelope])
    [reply] = OutboxMessage.objects.filter(type="kit.effect_done")
    effect_done.apply(args=[reply.envelope])
    OutboxMessage.objects.filter(pk=request.pk).update(acknowledged_at=None)  # as if the relay sent it again

    assert effect_done.apply(args=[reply.envelope]).get() == "duplicate"

    request.refresh_from_db()
    assert request.acknowledged_at is not None
    assert receipts_for(reply.envelope["id"]) == []


@committed
def test_a_reply_that_is_dead_lettered_still_acknowledges_its_request(kit_queue):
    request = sent_row(seconds_ago=1, type="kit.test_effect")
    reply = message("kit.effect_done", version=9, in_reply_to=str(request.message_id))

    assert effect_done.apply(args=[reply.as_dict()]).get() == "dead_lettered"

    request.refresh_from_db()
    assert request.acknowledged_at is not None


@committed
def test_a_dead_lettered_message_is_answered_so_it_is_not_sent_forever(kit_queue):
    envelope = message("kit.test_failure").as_dict()

    assert fail_after_effect.apply(args=[envelope], retries=kit_settings.MESSAGE_MAX_RETRIES).get() == "dead_lettered"

    assert len(receipts_for(envelope["id"])) == 1


@committed
def test_the_receipt_task_acknowledges_the_message_it_names():
    row = sent_row(seconds_ago=1)
    receipt_task = app.tasks["kit.receipt"]

    receipt_task.apply(args=[message("kit.receipt", payload={"message_id": str(row.message_id)}).as_dict()])

    row.refresh_from_db()
    assert row.acknowledged_at is not None


@committed
def test_a_message_without_receipt_is_sent_again_after_the_wait(kit_queue):
    row = sent_row(seconds_ago=kit_settings.REDELIVER_AFTER + 1)

    assert outbox_redeliver() == 1

    row.refresh_from_db()
    assert row.attempts == 2
    assert row.sent_at > timezone.now() - timedelta(seconds=5)
    assert [task["id"] for task in kit_queue.messages()] == [str(row.message_id)]


@committed
def test_redelivery_waits_longer_after_each_attempt(kit_queue):
    sent_row(seconds_ago=kit_settings.REDELIVER_AFTER + 1, attempts=3)

    assert outbox_redeliver() == 0
    assert len(kit_queue) == 0


@committed
def test_recent_acknowledged_and_receiptless_rows_are_not_sent_again(kit_queue):
    sent_row(seconds_ago=1)
    acknowledged = sent_row(seconds_ago=kit_settings.REDELIVER_AFTER + 1)
    outbox_acknowledge(message_ids=[str(acknowledged.message_id)])
    receipt = sent_row(seconds_ago=kit_settings.REDELIVER_AFTER + 1)
    receipt.expects_receipt = False
    receipt.save()

    assert outbox_redeliver() == 0
    assert len(kit_queue) == 0


@committed
def test_redelivery_gives_up_after_the_last_attempt(kit_queue):
    sent_row(seconds_ago=kit_settings.REDELIVER_AFTER * 20, attempts=kit_settings.MAX_REDELIVERIES + 1)

    assert outbox_redeliver() == 0


@committed
def test_the_receipt_task_acknowledges_every_message_of_a_batch():
    rows = [sent_row(seconds_ago=1) for _ in range(3)]
    receipt_task = app.tasks["kit.receipt"]

    batch = {"message_ids": [str(row.message_id) for row in rows[:2]]}
    receipt_task.apply(args=[message("kit.receipt", payload=batch).as_dict()])

    assert [row.acknowledged_at is not None for row in OutboxMessage.objects.filter(pk__in=[r.pk for r in rows])] == [
        True,
        True,
        False,
    ]


@committed
def test_stored_receipts_leave_as_one_task_per_producer_on_its_receipts_queue(kit_queue, settings):
    envelopes = [one_way().as_dict() for _ in range(3)]
    for envelope in envelopes:
        strict_handler.apply(args=[envelope])
    receipts = RedisQueue(settings.CELERY_BROKER_URL, receipts_queue("kit"))
    receipts.clear()
    try:
        # The receipts wait for the relay: none left with the messages' transactions.
        assert len(receipts) == 0

        assert receipts_send() == 3

        [task] = receipts.messages()
        assert task["task"] == "kit.receipt"
        assert task["args"][0]["payload"]["message_ids"] == [envelope["id"] for envelope in envelopes]
        assert not OutboxMessage.objects.filter(type="kit.receipt", sent_at__isnull=True).exists()
        assert receipts_send() == 0
    finally:
        receipts.clear()


@committed
def test_no_message_goes_again_to_a_queue_with_a_backlog_that_may_hold_it(kit_queue, settings):
    settings.SERVICE_KIT = {**settings.SERVICE_KIT, "REDELIVER_BACKLOG": 2}
    row = sent_row(seconds_ago=kit_settings.REDELIVER_AFTER + 1)
    for _ in range(3):
        unsent_row()
    outbox_publish()  # three messages now wait in the "kit" queue

    assert outbox_redeliver() == 0

    kit_queue.clear()
    assert outbox_redeliver() == 1
    row.refresh_from_db()
    assert row.attempts == 2


@committed
def test_no_message_goes_again_while_a_worker_holds_it(kit_queue):
    """A worker holds a message unacknowledged while it waits out a retry's countdown (its database down,
    up to MESSAGE_MAX_BACKOFF s between tries): the queue is empty meanwhile, yet a copy would only be
    one more message to process once the database is back."""
    row = sent_row(seconds_ago=kit_settings.REDELIVER_AFTER + 1)
    broker_send(row.envelope)  # the copy a worker takes off the queue and holds
    with app.connection_for_read() as conn:
        held = conn.default_channel.basic_get(queue="kit", no_ack=False)
        assert held.headers["id"] == str(row.message_id)
        assert len(kit_queue) == 0

        assert outbox_redeliver() == 0

        held.ack()
    assert outbox_redeliver() == 1
    assert [task["id"] for task in kit_queue.messages()] == [str(row.message_id)]


@committed
def test_a_duplicate_request_is_answered_again_with_its_first_reply_and_nothing_else(kit_queue):
    envelope = message("kit.test_effect").as_dict()
    assert record_effect.apply(args=[envelope]).get() == "processed"
    [reply] = [task for task in kit_queue.messages() if task["task"] == "kit.effect_done"]
    kit_queue.clear()

    assert record_effect.apply(args=[envelope]).get() == "duplicate"

    # The same reply, with the same id: a receiver that had it ignores it, one that lost it gets it.
    assert [(task["task"], task["id"]) for task in kit_queue.messages()] == [("kit.effect_done", reply["id"])]
    assert OutboxMessage.objects.filter(type="kit.effect_done").count() == 1


@committed
def test_a_lost_reply_comes_again_through_its_request_never_by_itself(kit_queue):
    request = sent_row(seconds_ago=1, type="kit.test_effect")
    record_effect.apply(args=[request.envelope])
    [reply] = OutboxMessage.objects.filter(type="kit.effect_done")
    long_ago = timezone.now() - timedelta(seconds=kit_settings.REDELIVER_AFTER + 1)
    OutboxMessage.objects.filter(pk__in=[request.pk, reply.pk]).update(sent_at=long_ago)
    kit_queue.clear()  # the reply is lost: nothing acknowledges the request

    assert outbox_redeliver() == 1
    assert [task["id"] for task in kit_queue.messages()] == [str(request.message_id)]
    kit_queue.clear()
    assert record_effect.apply(args=[request.envelope]).get() == "duplicate"

    assert [task["id"] for task in kit_queue.messages()] == [str(reply.message_id)]


@committed
def test_a_duplicate_of_a_message_without_a_reply_in_the_contract_sends_nothing_again(kit_queue):
    envelope = message("kit.test_failure").as_dict()
    process_once(lambda m: reply_to(m), Message.from_dict(envelope))
    kit_queue.clear()

    assert fail_after_effect.apply(args=[envelope]).get() == "duplicate"

    assert len(kit_queue) == 0


@committed
def test_a_dead_lettered_message_is_marked_so_by_its_receipt(kit_queue, settings):
    row = sent_row(seconds_ago=1)
    other = sent_row(seconds_ago=1)
    receipt_task = app.tasks["kit.receipt"]
    batch = {"message_ids": [str(row.message_id), str(other.message_id)], "dead_lettered": [str(row.message_id)]}

    receipt_task.apply(args=[message("kit.receipt", payload=batch).as_dict()])

    row.refresh_from_db()
    other.refresh_from_db()
    assert (row.acknowledged_at is not None, row.dead_lettered) == (True, True)
    assert (other.acknowledged_at is not None, other.dead_lettered) == (True, False)


@committed
def test_the_consumer_s_receipt_of_a_dead_letter_says_so(kit_queue, settings):
    envelope = message("kit.test_failure").as_dict()
    fail_after_effect.apply(args=[envelope], retries=kit_settings.MESSAGE_MAX_RETRIES)
    receipts = RedisQueue(settings.CELERY_BROKER_URL, receipts_queue("kit"))
    receipts.clear()
    try:
        receipts_send()
        [task] = receipts.messages()
        assert task["args"][0]["payload"]["dead_lettered"] == [envelope["id"]]
    finally:
        receipts.clear()
