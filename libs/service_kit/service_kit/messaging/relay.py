"""The relay: publish what is unsent, redeliver what has no receipt (and prune what is past keeping).

The after-commit send (outbox.py) leaves rows unsent when a crash falls between commit and publish,
or the broker is down; the relay (`manage.py outbox_relay`, running scheduling.py's table) sends those
older than PUBLISH_GRACE. A row it sends is locked while it is sent, so two relays never both send it;
a crash after sending and before marking it sent gives a duplicate, which consumers ignore.

Redis can lose a task that a worker had taken off its queue when the worker is killed at the wrong
moment: the relay sends again what has no receipt after a while (`outbox_redeliver`), unless a worker
still holds it or the destination queue holds a backlog that may still contain it; idempotent consumers
make the extra copies harmless.
"""

import json
import logging
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.utils import timezone

from ..conf import kit_settings
from ..metrics import REDELIVERIES
from ..models import OutboxMessage, ProcessedMessage
from .contract import contract
from .outbox import broker_send, outbox_mark_sent
from .receipts import RECEIPT_SUFFIX

logger = logging.getLogger(__name__)


def outbox_publish(*, ids: list[int] | None = None, limit: int = 100) -> int:
    """Send unsent rows (the given ones, else the oldest older than PUBLISH_GRACE, which the after-commit
    send has had time to send); stops at the first broker error. Receipts go in batches (`receipts_send`)."""
    sent: list[int] = []
    with transaction.atomic():
        rows = OutboxMessage.objects.select_for_update(skip_locked=True).filter(sent_at__isnull=True)
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        else:
            grace = timedelta(seconds=kit_settings.PUBLISH_GRACE)
            rows = rows.filter(created_at__lt=timezone.now() - grace).exclude(type__endswith=RECEIPT_SUFFIX)
        for row in rows.order_by("id")[:limit]:
            try:
                broker_send(row.envelope)
            except Exception as exc:  # the broker is down or refusing: the sweep tries again later
                row.attempts += 1
                row.last_error = repr(exc)[:1000]
                row.save(update_fields=["attempts", "last_error"])
                logger.warning("outbox publish failed", extra={"message_type": row.type, "error": repr(exc)})
                break
            sent.append(row.pk)
        outbox_mark_sent(sent)
    return len(sent)


def queue_backlog(queue: str) -> int:
    """Messages waiting in a queue of the broker."""
    with current_app.connection_for_write() as conn:
        try:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
        except conn.channel_errors:  # no such queue yet: nothing was ever sent to it
            return 0


def held_by_workers() -> set[str]:
    """Ids of the messages workers hold unacknowledged: running, prefetched, or waiting out a retry's
    countdown (a consumer retrying through its database's outage, up to MESSAGE_MAX_BACKOFF between tries).
    Kombu's Redis transport keeps each in its `unacked` hash until it is acknowledged, and puts it back in
    its queue after the visibility timeout should its worker die."""
    with current_app.connection_for_write() as conn:
        channel = conn.default_channel
        with channel.conn_or_acquire() as client:
            held = client.hvals(channel.unacked_key)
    # Each value is [the message as sent, exchange, routing key]; a Celery task's id is the message's id.
    return {json.loads(value)[0].get("headers", {}).get("id") for value in held}


class Backlogs:
    """Whether a message unanswered for a while may merely be waiting: a worker holds it (a retry's
    countdown), or its destination queue, or a queue this service consumes (where its receipt or reply
    would wait), holds more than REDELIVER_BACKLOG messages. A copy sent then would only add to the
    backlog. The broker is asked once per instance for each queue and once for what workers hold."""

    def __init__(self):
        self.sizes: dict[str, int] = {}
        self.held: set[str] | None = None
        self.own_queues = contract().queues_of(kit_settings.SERVICE_NAME)

    def backlogged(self, queue: str) -> bool:
        if queue not in self.sizes:
            self.sizes[queue] = queue_backlog(queue)
        return self.sizes[queue] > kit_settings.REDELIVER_BACKLOG

    def may_hold(self, type: str, message_id: str) -> bool:
        """True when the message (of `type`), or its answer, may still be waiting."""
        if self.held is None:
            self.held = held_by_workers()
        return (
            message_id in self.held
            or any(self.backlogged(queue) for queue in self.own_queues)
            or self.backlogged(contract().queue_of(type))
        )


def outbox_redeliver(*, limit: int = 100) -> int:
    """Send again sent rows whose receipt has not come, waiting longer after each attempt; not while a
    backlog may hold them (`Backlogs`)."""
    now = timezone.now()
    base = kit_settings.REDELIVER_AFTER
    sent: list[int] = []
    backlogs = Backlogs()

    with transaction.atomic():
        rows = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            expects_receipt=True,
            acknowledged_at__isnull=True,
            sent_at__lt=now - timedelta(seconds=base),
            attempts__lt=kit_settings.MAX_REDELIVERIES + 1,
        )
        for row in rows.order_by("sent_at")[:limit]:
            if row.sent_at > now - timedelta(seconds=base * min(row.attempts, 10)):
                continue
            try:
                if backlogs.may_hold(row.type, str(row.message_id)):
                    continue
                broker_send(row.envelope)
            except Exception as exc:  # the broker is down: the next sweep tries again
                row.last_error = repr(exc)[:1000]
                row.save(update_fields=["last_error"])
                break
            extra = {"message_type": row.type, "message_id": str(row.message_id), "attempts": row.attempts}
            logger.warning("message sent again: no receipt yet", extra=extra)
            REDELIVERIES.labels(row.type).inc()
            sent.append(row.pk)
        outbox_mark_sent(sent)
    return len(sent)


def outbox_prune(*, older_than: timedelta | None = None) -> int:
    """Delete sent rows and processed-message records past their retention."""
    cutoff = timezone.now() - (older_than or timedelta(days=kit_settings.OUTBOX_RETENTION_DAYS))
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=cutoff).delete()
    processed, _ = ProcessedMessage.objects.filter(processed_at__lt=cutoff).delete()
    return deleted + processed
