"""The inbox: idempotent consumers that dedupe, retry, and dead-letter what keeps failing.

The message id is recorded in the same transaction as its effect. `@message_handler("inventory.reserve")`
makes a Celery task of that name whose body runs once per message id, retries with backoff on failure
and, after the last retry, stores the message in the dead-letter table (dead_letters.py) for an operator
to inspect and replay. Nothing is dropped silently: a message the contract does not describe (an
unknown type or version, a payload that breaks its schema) and a malformed envelope are dead letters at
once, each with its reason.
"""

import json
import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from ..conf import kit_settings
from ..metrics import message_consumed
from ..models import ProcessedMessage
from ..request_id import reset_request_id, set_request_id
from .contract import ContractViolation, contract
from .dead_letters import dead_letter_now, dead_letter_record, malformed_message_id
from .envelope import InvalidEnvelope, Message
from .outbox import handling, outbox_send_answers
from .receipts import acknowledge_request, receipt_store

logger = logging.getLogger(__name__)


def message_handler(message_type: str) -> Callable:
    def decorator(handler: Callable[[Message], None]):
        @shared_task(name=message_type, bind=True, max_retries=None)
        def task(self, envelope):
            outcome = consume(self, handler, envelope)
            # After its transaction: a retried attempt raised above and is counted when it ends.
            occurred_at = envelope.get("occurred_at") if isinstance(envelope, dict) else None
            message_consumed(type=message_type, outcome=outcome, occurred_at=occurred_at)
            return outcome

        task.handler = handler
        return task

    return decorator


class InvalidPayload(ValueError):
    """A payload a handler cannot act on: retrying would not mend it, so it is dead-lettered at once."""


def payload_of(serializer_class, message: Message) -> dict[str, Any]:
    """The payload as a DRF serializer converts it (decimals, UUIDs); InvalidPayload when it does not fit.

    The consumer has held the payload to the contract already: a serializer that refuses it means the
    two drifted apart, and the message waits in the dead letters for an operator, never dropped."""
    serializer = serializer_class(data=message.payload)
    if not serializer.is_valid():
        raise InvalidPayload(f"payload of {message.type} refused by its handler: {serializer.errors}")
    return serializer.validated_data


def contract_refusal(task_name: str, message: Message) -> str | None:
    """Why this service may not act on the message by the contract, or None when it may."""
    if message.type != task_name:
        return f"a {message.type!r} message delivered to the {task_name!r} handler"
    try:
        spec = contract().spec(message.type, message.version)
    except ContractViolation as exc:
        return f"{exc}: this consumer does not know it"
    if kit_settings.SERVICE_NAME not in spec.receivers:
        return f"{kit_settings.SERVICE_NAME} does not receive {message.type!r} by the contract"
    errors = spec.payload_errors(message.payload)
    if errors:
        return "payload breaks the contract: " + "; ".join(errors)
    return None


def _record_processed(message: Message) -> bool:
    """Record the message id, or find it recorded already (False): one statement, no savepoint.

    A concurrent copy of the same message waits on the first one's row until it commits or rolls back."""
    table = ProcessedMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (message_id, type, processed_at, envelope) "  # noqa: S608 (table name)
            "VALUES (%s, %s, %s, %s::jsonb) ON CONFLICT (message_id) DO NOTHING RETURNING 1",
            [message.id, message.type[:100], timezone.now(), json.dumps(message.as_dict(), cls=DjangoJSONEncoder)],
        )
        return cursor.fetchone() is not None


def process_once(handler: Callable[[Message], None], message: Message, *, receipt: bool = False) -> bool:
    """Run the handler unless this message id was processed before; False for a duplicate.

    The processed record and the handler's effect commit together, and with them the message's receipt
    when `receipt` is set (as the consumer does), unless the handler answered it with one of its replies
    (the reply is the receipt) or the message is itself a reply: a reply acknowledges the request it answers,
    in the same transaction, and needs no receipt of its own (receipt_store). Inside
    the handler the request id is the message's correlation id, so its logs and the messages it sends carry
    the id of the request that started the work."""
    token = set_request_id(message.correlation_id)
    try:
        with transaction.atomic(), handling(message) as state:
            if not _record_processed(message):
                return False
            acknowledge_request(message)
            handler(message)
            if receipt and not state.answered:
                receipt_store(message)
        return True
    finally:
        reset_request_id(token)


def answer_again(message: Message) -> None:
    """A copy of a message processed before: as the first time, a reply acknowledges its request, and the
    message is answered, with its first reply again, or else a receipt (either may have been lost; a reply
    gets none, receipt_store)."""
    acknowledge_request(message)
    if not outbox_send_answers(message):
        receipt_store(message)


def consume(task, handler: Callable[[Message], None], envelope) -> str:
    try:
        message = Message.from_dict(envelope)
    except InvalidEnvelope as exc:
        # No receipt: without a readable id and producer there is no one to answer.
        error = f"malformed envelope: {exc}"
        logger.error("malformed message dead-lettered", extra={"message_type": task.name, "error": error})
        dead_letter_record(
            envelope=envelope, message_id=malformed_message_id(envelope), message_type=task.name, error=error
        )
        return "dead_lettered"
    token = set_request_id(message.correlation_id)
    try:
        refusal = contract_refusal(task.name, message)
        if refusal is not None:
            return dead_letter_now(message, envelope, refusal)
        outcome = "processed" if process_once(handler, message, receipt=True) else "duplicate"
        logger.info(f"message {outcome}", extra={"message_type": message.type, "message_id": message.id})
        if outcome == "duplicate":
            answer_again(message)
        return outcome
    except InvalidPayload as exc:
        return dead_letter_now(message, envelope, str(exc))
    except Exception as exc:
        retries = task.request.retries
        extra = {"message_type": message.type, "message_id": message.id, "error": repr(exc), "retries": retries}
        if retries < kit_settings.MESSAGE_MAX_RETRIES:
            logger.warning("message failed; retrying", extra=extra)
            # The backoff of Celery's `retry_backoff` (1, 2, 4 ... s, capped), without jitter. Not its
            # `autoretry_for`: once retries run out that fails the task, where this consumer dead-letters
            # the message, or keeps it alive while the database is down.
            countdown = get_exponential_backoff_interval(
                factor=1, retries=retries, maximum=kit_settings.MESSAGE_MAX_BACKOFF, full_jitter=False
            )
            raise task.retry(exc=exc, countdown=countdown) from None
        try:
            return dead_letter_now(message, envelope, repr(exc), extra={"retries": retries})
        except Exception:  # the database itself is down: keep the message alive rather than lose it
            logger.exception("could not dead-letter; retrying later", extra=extra)
            raise task.retry(exc=exc, countdown=kit_settings.MESSAGE_MAX_BACKOFF, max_retries=None) from None
    finally:
        reset_request_id(token)
