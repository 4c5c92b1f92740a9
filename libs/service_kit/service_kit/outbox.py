"""Transactional outbox: write inside the caller's transaction, publish after.

`outbox_enqueue` stores the message with the change that causes it; right after commit the message
is sent and its row marked sent in one statement (`outbox_send_committed`). The relay
(`manage.py outbox_relay`) sends whatever that left: rows a crash between commit and publish, or a
broker outage, left unsent for longer than PUBLISH_GRACE. A row the relay sends is locked while it
is sent, so two relays never both send it; a crash after sending and before marking it sent gives a
duplicate, which consumers ignore.

Delivery receipts close the last gap: Redis can lose a task that a worker had taken off its queue
when the worker is killed at the wrong moment. Each consumer answers every message with a receipt,
stored in its own outbox in the transaction that processed the message; the relay sends the
receipts it finds, many in one task (`<producer>.receipt` on the producer's receipts queue, so they
never wait behind its saga messages). The producer's relay sends again what has no receipt after a
while (`outbox_redeliver`), unless the destination queue holds a backlog that may still contain it;
idempotent consumers make the extra copies harmless.
"""

import contextlib
import contextvars
import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .conf import kit_settings
from .contract import contract
from .events import Message
from .models import OutboxMessage, ProcessedMessage
from .request_id import get_request_id

logger = logging.getLogger(__name__)

RECEIPT_SUFFIX = ".receipt"


def receipts_queue(service: str) -> str:
    """The queue of a service's receipts (from the contract), beside its own: a backlog of saga messages
    never delays them."""
    return contract().queue_of(f"{service}{RECEIPT_SUFFIX}")


# The id of the message being handled in this context: what the messages written meanwhile answer.
_handling: contextvars.ContextVar[str | None] = contextvars.ContextVar("handling", default=None)


@contextlib.contextmanager
def handling(message_id: str):
    """Messages stored inside are recorded as caused by this message (see `outbox_send_answers`)."""
    token = _handling.set(message_id)
    try:
        yield
    finally:
        _handling.reset(token)


def outbox_enqueue(
    *, type: str, payload: dict[str, Any], correlation_id: str | None = None, message_id: str | None = None
) -> Message:
    """Store a message for `type`'s queue; it leaves only if the caller's transaction commits.

    The message is held to the contract first, at its type's latest version: a type the contract does
    not let this service send, or a payload that breaks its schema, raises ContractViolation and so
    rolls the caller's change back rather than send what no consumer would accept."""
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_enqueue must run inside the transaction of the change it reports")
    version = contract().latest_version(type)
    contract().check_outgoing(type=type, version=version, payload=payload, producer=kit_settings.SERVICE_NAME)
    message = Message(
        type=type,
        payload=payload,
        producer=kit_settings.SERVICE_NAME,
        correlation_id=correlation_id or get_request_id(),
        version=version,
        **({"id": message_id} if message_id else {}),
    )
    return outbox_store(message)


def outbox_store(message: Message, *, expects_receipt: bool = True) -> Message:
    row = OutboxMessage.objects.create(
        message_id=message.id,
        type=message.type,
        envelope=message.as_dict(),
        expects_receipt=expects_receipt,
        caused_by=_handling.get(),
    )
    transaction.on_commit(lambda: outbox_send_committed(row), robust=True)
    return message


def broker_send(envelope: dict[str, Any]) -> None:
    """Send one envelope as a Celery task named by its type, to the owning service's queue."""
    message = Message.from_dict(envelope)
    current_app.send_task(message.type, args=[envelope], queue=message.destination, task_id=message.id, retry=False)


def outbox_send_committed(row: OutboxMessage) -> None:
    """Right after commit: send the row's message and mark it sent, one statement and no transaction.

    On a broker error the row stays unsent, with the error, for the relay's next sweep."""
    try:
        broker_send(row.envelope)
    except Exception as exc:  # the broker is down or refusing: the relay sends it later
        OutboxMessage.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1, last_error=repr(exc)[:1000])
        logger.warning("outbox publish failed", extra={"message_type": row.type, "error": repr(exc)})
        return
    OutboxMessage.objects.filter(pk=row.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )


def outbox_publish(*, ids: list[int] | None = None, limit: int = 100) -> int:
    """Send unsent rows (the given ones, else the oldest older than PUBLISH_GRACE, which the after-commit
    send has had time to send); stops at the first broker error. Receipts go in batches (`receipts_send`)."""
    sent = 0
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
            row.sent_at = timezone.now()
            row.attempts += 1
            row.save(update_fields=["sent_at", "attempts"])
            sent += 1
    return sent


def outbox_send_again(rows) -> int:
    """Send the given rows again as they are (same message ids, so receivers that had them ignore them)."""
    sent = 0
    for row in rows:
        broker_send(row.envelope)
        OutboxMessage.objects.filter(pk=row.pk).update(sent_at=timezone.now(), attempts=F("attempts") + 1)
        sent += 1
    return sent


def outbox_send_answers(message: Message) -> int:
    """Send again the reply that handling a request wrote (its contract's `reply`): a duplicate of a
    request is answered with the first reply, whose first copy may have been lost."""
    answers = contract().spec(message.type, message.version).replies
    if not answers:
        return 0
    rows = OutboxMessage.objects.filter(caused_by=message.id, type__in=answers).order_by("id")
    return outbox_send_again(rows)


def queue_backlog(queue: str) -> int:
    """Messages waiting in a queue of the broker."""
    with current_app.connection_for_write() as conn:
        try:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
        except conn.channel_errors:  # no such queue yet: nothing was ever sent to it
            return 0


def outbox_redeliver(*, limit: int = 100) -> int:
    """Send again sent rows whose receipt has not come, waiting longer after each attempt.

    Not to a queue that holds more than REDELIVER_BACKLOG messages, nor while this service's receipts
    queue does: the message, or its receipt, may be waiting there, and a copy would only add to the
    backlog."""
    now = timezone.now()
    base = kit_settings.REDELIVER_AFTER
    sent = 0
    backlog: dict[str, int] = {}

    def backlogged(queue: str) -> bool:
        if queue not in backlog:
            backlog[queue] = queue_backlog(queue)
        return backlog[queue] > kit_settings.REDELIVER_BACKLOG

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
            destination = Message.from_dict(row.envelope).destination
            try:
                if backlogged(receipts_queue(kit_settings.SERVICE_NAME)) or backlogged(destination):
                    continue
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


def outbox_acknowledge(*, message_ids: list[str], dead_lettered: list[str] = ()) -> int:
    """Consumers' receipts for messages of this service: the relay stops sending them. Those the consumer
    dead-lettered are marked so: asking again cannot help them, an operator can."""
    if dead_lettered:
        OutboxMessage.objects.filter(message_id__in=dead_lettered).update(dead_lettered=True)
    return OutboxMessage.objects.filter(message_id__in=message_ids, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now()
    )


def receipt_store(message: Message, *, dead_lettered: bool = False) -> None:
    """Record that a message arrived (processed, a duplicate, or dead-lettered), for the relay to tell its
    producer. Inside the transaction that processed it, the receipt exists exactly when its effect does."""
    receipt = Message(
        type=f"{message.producer}{RECEIPT_SUFFIX}",
        payload={"message_id": message.id, "dead_lettered": dead_lettered},
        producer=kit_settings.SERVICE_NAME,
        correlation_id=message.correlation_id,
    )
    OutboxMessage.objects.create(
        message_id=receipt.id, type=receipt.type, envelope=receipt.as_dict(), expects_receipt=False
    )


def receipts_send(*, limit: int = 1000) -> int:
    """Send the stored receipts, one task per producer carrying all of theirs, to its receipts queue."""
    sent = 0
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, type__endswith=RECEIPT_SUFFIX)
            .order_by("id")[:limit]
        )
        by_type: dict[str, list[OutboxMessage]] = {}
        for row in rows:
            by_type.setdefault(row.type, []).append(row)
        for type, batch in by_type.items():
            payload = {
                "message_ids": [row.envelope["payload"]["message_id"] for row in batch],
                "dead_lettered": [
                    row.envelope["payload"]["message_id"]
                    for row in batch
                    if row.envelope["payload"].get("dead_lettered")
                ],
            }
            try:
                contract().check_outgoing(type=type, version=1, payload=payload, producer=kit_settings.SERVICE_NAME)
                envelope = Message(type=type, payload=payload, producer=kit_settings.SERVICE_NAME).as_dict()
                broker_send(envelope)
            except Exception as exc:  # the broker is down: the next sweep tries again
                logger.warning("receipts not sent", extra={"message_type": type, "error": repr(exc)})
                break
            OutboxMessage.objects.filter(pk__in=[row.pk for row in batch]).update(
                sent_at=timezone.now(), attempts=F("attempts") + 1
            )
            sent += len(batch)
    return sent


def outbox_prune(*, older_than: timedelta | None = None) -> int:
    """Delete sent rows and processed-message records past their retention."""
    cutoff = timezone.now() - (older_than or timedelta(days=kit_settings.OUTBOX_RETENTION_DAYS))
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=cutoff).delete()
    processed, _ = ProcessedMessage.objects.filter(processed_at__lt=cutoff).delete()
    return deleted + processed
