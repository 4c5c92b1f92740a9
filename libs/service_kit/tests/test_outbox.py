"""Transactional outbox against the real PostgreSQL and Redis: nothing leaves before commit, nothing is lost.

A sent message is read back from the Redis list the Celery transport pushes to (the "kit" queue).
"""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from service_kit.conf import kit_settings
from service_kit.messaging.outbox import outbox_enqueue
from service_kit.messaging.relay import outbox_prune, outbox_publish
from service_kit.models import OutboxMessage, ProcessedMessage
from service_kit.request_id import reset_request_id, set_request_id

from .messaging import unsent_row

committed = pytest.mark.django_db(transaction=True)


@pytest.fixture
def request_id():
    token = set_request_id("req-outbox-1")
    yield "req-outbox-1"
    reset_request_id(token)


@committed
def test_enqueue_outside_a_transaction_raises_and_stores_nothing(kit_queue):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox_enqueue(type="kit.ping", payload={})

    assert not OutboxMessage.objects.exists()
    assert len(kit_queue) == 0


@committed
def test_enqueue_in_a_rolled_back_transaction_leaves_no_row_and_sends_nothing(kit_queue):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        outbox_enqueue(type="kit.ping", payload={"n": 1})
        1 / 0  # noqa: B018

    assert not OutboxMessage.objects.exists()
    assert len(kit_queue) == 0


@committed
def test_enqueue_in_a_rolled_back_savepoint_sends_nothing_but_the_outer_commit_still_does(kit_queue):
    with transaction.atomic():
        kept = outbox_enqueue(type="kit.ping", payload={"kept": True})
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            outbox_enqueue(type="kit.ping", payload={"kept": False})
            1 / 0  # noqa: B018

    assert list(OutboxMessage.objects.values_list("message_id", flat=True)) == [uuid.UUID(kept.id)]
    assert [task["id"] for task in kit_queue.messages()] == [kept.id]


@committed
def test_what_flower_and_the_log_show_of_a_task_is_its_whole_envelope(kit_queue):
    with transaction.atomic():
        outbox_enqueue(type="kit.ping", payload={"order_id": "o-1", "lines": [{"sku": "MUG", "quantity": 2}]})

    [task] = kit_queue.messages()
    # Celery's own repr would stop three levels down ("'lines': [...]"); the envelope's is whole.
    assert task["headers"]["argsrepr"] == repr(task["args"])
    assert "'sku': 'MUG'" in task["headers"]["argsrepr"]
    assert task["headers"]["kwargsrepr"] == "{}"


@committed
def test_enqueue_publishes_the_task_to_the_owning_queue_only_after_commit(kit_queue, request_id):
    with transaction.atomic():
        sent = outbox_enqueue(type="kit.ping", payload={"n": 1})
        assert len(kit_queue) == 0

    row = OutboxMessage.objects.get()
    assert row.message_id == uuid.UUID(sent.id)
    assert row.sent_at is not None
    assert row.attempts == 1
    assert row.last_error == ""
    [task] = kit_queue.messages()
    assert task["task"] == "kit.ping"
    assert task["id"] == sent.id
    assert task["args"] == [sent.as_dict()]
    envelope = task["args"][0]
    assert envelope["producer"] == "kit"
    assert envelope["correlation_id"] == request_id
    assert envelope["payload"] == {"n": 1}
    assert envelope == row.envelope


@committed
def test_explicit_correlation_id_wins_over_the_request_id(kit_queue, request_id):
    with transaction.atomic():
        outbox_enqueue(type="kit.ping", payload={}, correlation_id="from-the-saga")

    assert kit_queue.messages()[0]["args"][0]["correlation_id"] == "from-the-saga"


@committed
def test_enqueue_without_a_request_has_no_correlation_id(kit_queue):
    with transaction.atomic():
        outbox_enqueue(type="kit.ping", payload={})

    assert kit_queue.messages()[0]["args"][0]["correlation_id"] is None


@committed
def test_broker_outage_keeps_the_commit_and_leaves_the_row_for_the_sweep(kit_queue, broker_down, settings):
    settings.SERVICE_KIT = {**settings.SERVICE_KIT, "PUBLISH_GRACE": 60}
    with transaction.atomic():
        sent = outbox_enqueue(type="kit.ping", payload={"n": 1})

    row = OutboxMessage.objects.get()
    assert row.sent_at is None
    assert row.attempts == 1
    assert "Connection refused" in row.last_error

    broker_down.restore()
    # The sweep leaves a new row to the after-commit send for PUBLISH_GRACE seconds, then sends it.
    assert outbox_publish() == 0
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(seconds=kit_settings.PUBLISH_GRACE + 1))
    assert outbox_publish() == 1

    row.refresh_from_db()
    assert row.sent_at is not None
    assert row.attempts == 2
    assert [task["id"] for task in kit_queue.messages()] == [sent.id]


@committed
def test_publish_stops_at_the_first_broker_error_and_counts_only_that_attempt(kit_queue, broker_down):
    first, second = unsent_row(), unsent_row()

    assert outbox_publish() == 0

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.sent_at, first.attempts) == (None, 1)
    assert first.last_error
    assert (second.sent_at, second.attempts, second.last_error) == (None, 0, "")


@committed
def test_publish_sends_unsent_rows_oldest_first(kit_queue):
    rows = [unsent_row(payload={"n": n}) for n in range(3)]

    assert outbox_publish() == 3

    assert [task["id"] for task in kit_queue.messages()] == [str(row.message_id) for row in rows]
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


@committed
def test_publish_sends_only_the_given_ids(kit_queue):
    first, second, third = unsent_row(), unsent_row(), unsent_row()

    assert outbox_publish(ids=[third.pk, first.pk]) == 2

    assert [task["id"] for task in kit_queue.messages()] == [str(first.message_id), str(third.message_id)]
    assert list(OutboxMessage.objects.filter(sent_at__isnull=True)) == [second]


@committed
def test_publish_sends_at_most_limit_rows_oldest_first(kit_queue):
    rows = [unsent_row() for _ in range(3)]

    assert outbox_publish(limit=2) == 2

    assert [task["id"] for task in kit_queue.messages()] == [str(row.message_id) for row in rows[:2]]


@committed
def test_publish_never_sends_a_row_twice(kit_queue):
    row = unsent_row()
    assert outbox_publish() == 1

    assert outbox_publish() == 0
    assert outbox_publish(ids=[row.pk]) == 0
    assert len(kit_queue) == 1


@committed
def test_two_concurrent_publishers_send_each_row_exactly_once(kit_queue):
    rows = [unsent_row(payload={"n": n}) for n in range(30)]
    start = threading.Barrier(2)
    sent_by: list[int] = []
    errors: list[BaseException] = []

    def publisher():
        try:
            start.wait()
            total = 0
            while sent := outbox_publish(limit=3):
                total += sent
            sent_by.append(total)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publisher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sum(sent_by) == 30
    queued = [task["id"] for task in kit_queue.messages()]
    assert len(queued) == 30
    assert sorted(queued) == sorted(str(row.message_id) for row in rows)
    assert OutboxMessage.objects.filter(sent_at__isnull=False, attempts=1).count() == 30
    close_old_connections()


@pytest.mark.django_db
def test_prune_deletes_only_sent_rows_and_processed_records_past_the_retention():
    now = timezone.now()
    old_sent, recent_sent, old_unsent = unsent_row(), unsent_row(), unsent_row()
    OutboxMessage.objects.filter(pk=old_sent.pk).update(sent_at=now - timedelta(days=8))
    OutboxMessage.objects.filter(pk=recent_sent.pk).update(sent_at=now - timedelta(days=6))
    OutboxMessage.objects.filter(pk=old_unsent.pk).update(created_at=now - timedelta(days=30))
    old_processed = ProcessedMessage.objects.create(message_id=uuid.uuid4(), type="kit.ping")
    recent_processed = ProcessedMessage.objects.create(message_id=uuid.uuid4(), type="kit.ping")
    ProcessedMessage.objects.filter(pk=old_processed.pk).update(processed_at=now - timedelta(days=8))

    assert outbox_prune() == 2

    assert set(OutboxMessage.objects.all()) == {recent_sent, old_unsent}
    assert list(ProcessedMessage.objects.all()) == [recent_processed]


@pytest.mark.django_db
def test_prune_uses_the_given_age_instead_of_the_retention_setting():
    row = unsent_row()
    OutboxMessage.objects.filter(pk=row.pk).update(sent_at=timezone.now() - timedelta(hours=2))

    assert outbox_prune(older_than=timedelta(hours=3)) == 0
    assert outbox_prune(older_than=timedelta(hours=1)) == 1
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_prune_follows_the_retention_setting(settings):
    settings.SERVICE_KIT = {**settings.SERVICE_KIT, "OUTBOX_RETENTION_DAYS": 1}
    row = unsent_row()
    OutboxMessage.objects.filter(pk=row.pk).update(sent_at=timezone.now() - timedelta(days=2))

    assert outbox_prune() == 1


@committed
def test_the_sweep_leaves_a_new_row_to_the_after_commit_send_for_the_grace_period(kit_queue):
    fresh = unsent_row(seconds_ago=0)
    old = unsent_row(seconds_ago=kit_settings.PUBLISH_GRACE + 1)

    assert outbox_publish() == 1

    assert [task["id"] for task in kit_queue.messages()] == [str(old.message_id)]
    fresh.refresh_from_db()
    assert fresh.sent_at is None


@committed
def test_the_after_commit_send_marks_the_row_sent_once(kit_queue):
    with transaction.atomic():
        sent = outbox_enqueue(type="kit.ping", payload={"n": 1})

    row = OutboxMessage.objects.get()
    assert row.sent_at is not None
    assert row.attempts == 1
    assert [task["id"] for task in kit_queue.messages()] == [sent.id]
    assert outbox_publish(ids=[row.pk]) == 0
