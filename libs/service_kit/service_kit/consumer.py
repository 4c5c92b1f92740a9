"""Idempotent consumers: the message id is recorded in the same transaction as its effect.

`@message_handler("inventory.reserve")` makes a Celery task of that name whose body runs once per
message id, retries with backoff on failure and, after the last retry, stores the message in the
dead-letter table for an operator to inspect and replay.
"""

import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.db import connection, transaction
from django.utils import timezone

from .conf import kit_settings
from .events import InvalidEnvelope, Message
from .models import DeadLetter, ProcessedMessage
from .outbox import outbox_store, receipt_store
from .request_id import reset_request_id, set_request_id

logger = logging.getLogger(__name__)


def message_handler(message_type: str) -> Callable:
    def decorator(handler: Callable[[Message], None]):
        @shared_task(name=message_type, bind=True, max_retries=None)
        def task(self, envelope):
            return consume(self, handler, envelope)

        task.handler = handler
        return task

    return decorator


def payload_or_none(serializer_class, message: Message) -> dict[str, Any] | None:
    """The payload validated by a DRF serializer, or None (logged) when it is malformed: retrying would
    not mend it, so a handler drops it rather than crash."""
    serializer = serializer_class(data=message.payload)
    if serializer.is_valid():
        return serializer.validated_data
    logger.warning(
        "malformed payload ignored",
        extra={"message_type": message.type, "message_id": message.id, "errors": serializer.errors},
    )
    return None


def _record_processed(message: Message) -> bool:
    """Record the message id, or find it recorded already (False): one statement, no savepoint.

    A concurrent copy of the same message waits on the first one's row until it commits or rolls back."""
    table = ProcessedMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (message_id, type, processed_at) VALUES (%s, %s, %s) "  # noqa: S608 (table name)
            "ON CONFLICT (message_id) DO NOTHING RETURNING 1",
            [message.id, message.type[:100], timezone.now()],
        )
        return cursor.fetchone() is not None


def process_once(handler: Callable[[Message], None], message: Message, *, receipt: bool = False) -> bool:
    """Run the handler unless this message id was processed before; False for a duplicate.

    The processed record and the handler's effect commit together, and with them the message's receipt
    when `receipt` is set (as the consumer does). Inside the handler the request id is the message's
    correlation id, so its logs and the messages it sends carry the id of the request that started the
    work."""
    token = set_request_id(message.correlation_id)
    try:
        with transaction.atomic():
            if not _record_processed(message):
                return False
            handler(message)
            if receipt:
                receipt_store(message)
        return True
    finally:
        reset_request_id(token)


def dead_letter_record(*, envelope, message_id, message_type: str, error: str) -> None:
    """Store a failed message once: a redelivered copy failing again joins the open dead letter."""
    if DeadLetter.objects.filter(message_id=message_id, type=message_type, replayed_at__isnull=True).exists():
        return
    DeadLetter.objects.create(message_id=message_id, type=message_type, envelope=envelope, error=error[:5000])


def consume(task, handler: Callable[[Message], None], envelope) -> str:
    try:
        message = Message.from_dict(envelope)
    except InvalidEnvelope as exc:
        logger.error("malformed message dead-lettered", extra={"error": str(exc)})
        dead_letter_record(
            envelope=envelope, message_id="00000000-0000-0000-0000-000000000000", message_type=task.name, error=str(exc)
        )
        return "dead_lettered"
    token = set_request_id(message.correlation_id)
    try:
        outcome = "processed" if process_once(handler, message, receipt=True) else "duplicate"
        logger.info(f"message {outcome}", extra={"message_type": message.type, "message_id": message.id})
        if outcome == "duplicate":
            receipt_store(message)  # its first receipt may have been lost
        return outcome
    except Exception as exc:
        retries = task.request.retries
        extra = {"message_type": message.type, "message_id": message.id, "error": repr(exc), "retries": retries}
        if retries < kit_settings.MESSAGE_MAX_RETRIES:
            logger.warning("message failed; retrying", extra=extra)
            raise task.retry(exc=exc, countdown=min(2**retries, kit_settings.MESSAGE_MAX_BACKOFF)) from None
        try:
            dead_letter_record(envelope=envelope, message_id=message.id, message_type=message.type, error=repr(exc))
        except Exception:  # the database itself is down: keep the message alive rather than lose it
            logger.exception("could not dead-letter; retrying later", extra=extra)
            raise task.retry(exc=exc, countdown=kit_settings.MESSAGE_MAX_BACKOFF, max_retries=None) from None
        logger.error("message dead-lettered", extra=extra)
        receipt_store(message)
        return "dead_lettered"
    finally:
        reset_request_id(token)


def dead_letter_replay(*, dead_letter: DeadLetter) -> None:
    """Send a dead-lettered message again, through this service's outbox.

    Its receipt goes to the message's producer, not to this service, so the row expects none: the relay
    would otherwise send it again and again."""
    with transaction.atomic():
        outbox_store(Message.from_dict(dead_letter.envelope), expects_receipt=False)
        DeadLetter.objects.filter(pk=dead_letter.pk).update(replayed_at=timezone.now())
