"""Transactional outbox: write inside the caller's transaction, publish after.

`outbox_enqueue` stores the message with the change that causes it and asks for a publish right
after commit; the relay (`manage.py outbox_relay`) sends whatever is left, so a crash between
commit and publish loses nothing. A row is locked while it is sent, so two senders never both send
it; a crash after sending and before marking it sent gives a duplicate, which consumers ignore.

Delivery receipts close the last gap: Redis can lose a task that a worker had taken off its queue
when the worker is killed at the wrong moment. Each consumer answers a message with a receipt
(`<producer>.receipt`), and the relay sends again what has no receipt after a while
(`outbox_redeliver`); idempotent consumers make the extra copies harmless.
"""

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.db import connection, transaction
from django.utils import timezone

from .conf import kit_settings
from .events import Message
from .models import OutboxMessage, ProcessedMessage
from .request_id import get_request_id

logger = logging.getLogger(__name__)


def outbox_enqueue(*, type: str, payload: dict[str, Any], correlation_id: str | None = None) -> Message:
    """Store a message for `type`'s owning service; it leaves only if the caller's transaction commits."""
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_enqueue must run inside the transaction of the change it reports")
    message = Message(
        type=type,
        payload=payload,
        producer=kit_settings.SERVICE_NAME,
        correlation_id=correlation_id or get_request_id(),
    )
    return outbox_store(message)


def outbox_store(message: Message, *, expects_receipt: bool = True) -> Message:
    row = OutboxMessage.objects.create(
        message_id=message.id, type=message.type, envelope=message.as_dict(), expects_receipt=expects_receipt
    )
    transaction.on_commit(lambda: outbox_publish(ids=[row.pk]), robust=True)
    return message


def broker_send(envelope: dict[str, Any]) -> None:
    """Send one envelope as a Celery task named by its type, to the owning service's queue."""
    message = Message.from_dict(envelope)
    current_app.send_task(message.type, args=[envelope], queue=message.destination, task_id=message.id, retry=False)


def outbox_publish(*, ids: list[int] | None = None, limit: int = 100) -> int:
    """Send unsent rows (the given ones, else the oldest); stops at the first broker error."""
    sent = 0
    with transaction.atomic():
        rows = OutboxMessage.objects.select_for_update(skip_locked=True).filter(sent_at__isnull=True)
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        for row in rows.order_by("id")[:limit]:
            try:
                broker_send(row.envelope)
            except Exception as exc:  # the broker is down or refusing: the sweep tries again later
                row.attempts += 1
                row.last_error = repr(exc)[:1000]
                row.save(update_fields=["attempts", "last_error"])
                logger.warning("outbox publish failed", extra={"message_type": row.type, "error": repr(exc)})
                break
            row.sent_at = timezone.now()
            row.attempts += 1
            row.save(update_fields=["sent_at", "attempts"])
            sent += 1
    return sent


def outbox_redeliver(*, limit: int = 100) -> int:
    """Send again sent rows whose receipt has not come, waiting longer after each attempt."""
    now = timezone.now()
    base = kit_settings.REDELIVER_AFTER
    sent = 0
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
                broker_send(row.envelope)
            except Exception as exc:  # the broker is down: the next sweep tries again
                row.last_error = repr(exc)[:1000]
                row.save(update_fields=["last_error"])
                break
            extra = {"message_type": row.type, "message_id": str(row.message_id), "attempts": row.attempts}
            logger.warning("message sent again: no receipt yet", extra=extra)
            row.sent_at = now
            row.attempts += 1
            row.save(update_fields=["sent_at", "attempts"])
            sent += 1
    return sent


def outbox_acknowledge(*, message_id: str) -> None:
    """The consumer's receipt for one message: the relay stops sending it."""
    OutboxMessage.objects.filter(message_id=message_id, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now()
    )


def receipt_send(message: Message) -> None:
    """Tell the producer its message arrived (processed, a duplicate, or dead-lettered)."""
    receipt = Message(
        type=f"{message.producer}.receipt",
        payload={"message_id": message.id},
        producer=kit_settings.SERVICE_NAME,
        correlation_id=message.correlation_id,
    )
    with transaction.atomic():
        outbox_store(receipt, expects_receipt=False)


def outbox_prune(*, older_than: timedelta | None = None) -> int:
    """Delete sent rows and processed-message records past their retention."""
    cutoff = timezone.now() - (older_than or timedelta(days=kit_settings.OUTBOX_RETENTION_DAYS))
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=cutoff).delete()
    processed, _ = ProcessedMessage.objects.filter(processed_at__lt=cutoff).delete()
    return deleted + processed
