"""Delivery receipts: a consumer stores one per message, the relay sends them in batches, the producer
receives them and stops sending the message again.

Each consumer answers a message (processed, a duplicate, or dead-lettered) with a receipt, stored
in its own outbox in the transaction that processed the message; the relay sends the receipts it finds,
many in one task (`<producer>.receipt` on the producer's receipts queue, so they never wait behind its
saga messages). The producer's `<service>.receipt` task marks its rows acknowledged, and those the
consumer dead-lettered as such.

A request the consumer answers with one of its contract's replies needs no receipt: the reply names it
(`in_reply_to`), and the producer acknowledges the request in the transaction that processes the reply. Nor
does the reply: were it lost, the request, still unacknowledged, is sent again, and its copy is answered with
the same reply again (consumer.answer_again). The saga's requests (a reservation, a charge) and their replies
travel so; only its one-way messages (a commit, a release, a refund, a restock) are answered with receipts.
A dead-lettered message is reported to its producer by a receipt whatever it is.

A receipt carries the trace context of the consumer's work on its message (`traceparents`, by message id),
and the producer records its acknowledgement as a `receipt` span in that trace: the receipts of an order's
messages are spans of the order's trace, though many receipts travel in one task.
"""

import logging
import time
import uuid

from celery import shared_task
from django.db import connection, transaction
from django.utils import timezone

from ..conf import kit_settings
from ..models import OutboxMessage
from ..tracing import current_traceparent, record_child_spans
from .contract import contract
from .envelope import Message
from .outbox import OUTBOX_TABLE, broker_send, outbox_insert, outbox_mark_sent

logger = logging.getLogger(__name__)

RECEIPT_SUFFIX = ".receipt"


def receipts_queue(service: str) -> str:
    """The queue of a service's receipts (from the contract), beside its own: a backlog of saga messages
    never delays them."""
    return contract().queue_of(f"{service}{RECEIPT_SUFFIX}")


def receipt_store(message: Message, *, dead_lettered: bool = False) -> None:
    """Record that a message arrived (processed, a duplicate, or dead-lettered), for the relay to tell its
    producer. Inside the transaction that processed it, the receipt exists exactly when its effect does.

    Not for a reply (`in_reply_to`) unless it was dead-lettered: it acknowledges its request instead
    (`acknowledge_request`), and a lost one comes again with its request's copy."""
    if message.in_reply_to and not dead_lettered:
        return
    receipt = Message(
        type=f"{message.producer}{RECEIPT_SUFFIX}",
        payload={"message_id": message.id, "dead_lettered": dead_lettered},
        producer=kit_settings.SERVICE_NAME,
        correlation_id=message.correlation_id,
        traceparent=current_traceparent(),
    )
    outbox_insert(receipt.as_dict(), expects_receipt=False)


def receipts_send(*, limit: int = 1000) -> int:
    """Send the stored receipts, one task per producer carrying all of theirs, to its receipts queue."""
    sent: list[int] = []
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
            payload = {"message_ids": [], "dead_lettered": []}
            traceparents = {}
            for row in batch:
                message_id = row.envelope["payload"]["message_id"]
                payload["message_ids"].append(message_id)
                if row.envelope["payload"].get("dead_lettered"):
                    payload["dead_lettered"].append(message_id)
                if row.envelope.get("traceparent"):
                    traceparents[message_id] = row.envelope["traceparent"]
            if traceparents:
                payload["traceparents"] = traceparents
            try:
                contract().check_outgoing(type=type, version=1, payload=payload, producer=kit_settings.SERVICE_NAME)
                envelope = Message(type=type, payload=payload, producer=kit_settings.SERVICE_NAME).as_dict()
                broker_send(envelope)
            except Exception as exc:  # the broker is down: the next sweep tries again
                logger.warning("receipts not sent", extra={"message_type": type, "error": repr(exc)})
                break
            sent.extend(row.pk for row in batch)
        outbox_mark_sent(sent)
    return len(sent)


def outbox_acknowledge(*, message_ids: list[str], dead_lettered: list[str] = ()) -> int:
    """Consumers' receipts for messages of this service: the relay stops sending them. Those the consumer
    dead-lettered are marked so: asking again cannot help them, an operator can. One statement, as SQL (on
    every reply's path, like the outbox's own, outbox.py)."""
    if dead_lettered:
        OutboxMessage.objects.filter(message_id__in=dead_lettered).update(dead_lettered=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {OUTBOX_TABLE} SET acknowledged_at = %s "  # noqa: S608 (table name)
            "WHERE message_id = ANY(%s) AND acknowledged_at IS NULL",
            [timezone.now(), [uuid.UUID(str(message_id)) for message_id in message_ids]],
        )
        return cursor.rowcount


def acknowledge_request(message: Message) -> None:
    """A reply (`in_reply_to`) is its request's receipt: the request is acknowledged, each time the reply
    arrives (processed, a duplicate, or dead-lettered); any other message changes nothing."""
    if message.in_reply_to:
        outbox_acknowledge(message_ids=[message.in_reply_to])


# Named after this service, so found by the app factory's discovery of this module, not by the services'.
@shared_task(name=f"{kit_settings.SERVICE_NAME}{RECEIPT_SUFFIX}", ignore_result=True)
def receipts_receive(envelope: dict) -> None:
    """The `<service>.receipt` task: a consumer's receipts for messages this service sent; stop sending
    them again."""
    started = time.time_ns()
    payload = envelope["payload"]
    dead_lettered = payload.get("dead_lettered", [])
    outbox_acknowledge(message_ids=payload.get("message_ids") or [payload["message_id"]], dead_lettered=dead_lettered)
    record_child_spans(
        "receipt",
        payload.get("traceparents") or {},
        start_time=started,
        attributes_of=lambda message_id: {
            "messaging.message.id": message_id,
            "messaging.consumer": envelope.get("producer", ""),
            "receipt.dead_lettered": message_id in dead_lettered,
        },
    )
