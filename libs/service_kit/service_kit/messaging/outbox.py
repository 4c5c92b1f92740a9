"""Transactional outbox: write inside the caller's transaction, publish after.

`outbox_enqueue` stores the message with the change that causes it; right after commit the message
is sent and its row marked sent in one statement (`outbox_send_committed`). What that leaves unsent
(a crash between commit and publish, a broker outage) the relay sends (relay.py), and what gets no
receipt it sends again (receipts.py says when a message counts as received).
"""

import contextlib
import contextvars
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from ..conf import kit_settings
from ..models import OutboxMessage
from ..request_id import get_request_id
from ..tracing import context_of, current_traceparent
from .contract import contract
from .envelope import Message

logger = logging.getLogger(__name__)


@dataclass
class Handling:
    """The message being handled, and whether the handler has answered it with one of its contract's replies."""

    message: Message
    answered: bool = False


# The message being handled in this context: what the messages written meanwhile are caused by.
_handling: contextvars.ContextVar[Handling | None] = contextvars.ContextVar("handling", default=None)


@contextlib.contextmanager
def handling(message: Message) -> Iterator[Handling]:
    """Messages stored inside are recorded as caused by this message (see `outbox_send_answers`), and those
    of its replies say which request they answer (`in_reply_to`)."""
    token = _handling.set(state := Handling(message))
    try:
        yield state
    finally:
        _handling.reset(token)


def _answering(type: str) -> str | None:
    """The id of the request being handled when a message of `type` is one of its replies, else None."""
    state = _handling.get()
    if state is None or type not in contract().spec(state.message.type, state.message.version).replies:
        return None
    state.answered = True
    return state.message.id


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
        traceparent=current_traceparent(),
        in_reply_to=_answering(type),
        **({"id": message_id} if message_id else {}),
    )
    # A reply expects no receipt: were it lost, its request, unacknowledged, is sent again and answered with
    # this reply again (consumer.answer_again).
    return outbox_store(message, expects_receipt=message.in_reply_to is None)


def outbox_store(message: Message, *, expects_receipt: bool = True) -> Message:
    state = _handling.get()
    envelope = message.as_dict()
    pk = outbox_insert(envelope, expects_receipt=expects_receipt, caused_by=state.message.id if state else None)
    transaction.on_commit(lambda: outbox_send_committed(pk, envelope), robust=True)
    return message


# The outbox's own statements, on every message's path, are written as SQL: the ORM's query building cost
# several times the statement itself (measured in a worker: an insert ~0.40 against ~0.29 ms of CPU with
# its transaction, a mark-sent ~0.40 against ~0.15 ms), some 2 ms an order over its six outbox rows.
OUTBOX_TABLE = OutboxMessage._meta.db_table


def outbox_insert(envelope: dict[str, Any], *, expects_receipt: bool, caused_by: str | None = None) -> int:
    """Insert a message's row, unsent, in the caller's transaction; its primary key."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {OUTBOX_TABLE} (message_id, type, envelope, created_at, expects_receipt, attempts, "  # noqa: S608
            "last_error, caused_by, dead_lettered) VALUES (%s, %s, %s::jsonb, %s, %s, 0, '', %s, false) RETURNING id",
            [
                envelope["id"],
                envelope["type"],
                json.dumps(envelope, cls=DjangoJSONEncoder),
                timezone.now(),
                expects_receipt,
                caused_by,
            ],
        )
        return cursor.fetchone()[0]


def broker_send(envelope: dict[str, Any]) -> None:
    """Send one envelope as a Celery task named by its type, to the owning service's queue, inside the trace
    context it was written in (however late it goes), so the task's span joins that trace.

    The task's `argsrepr` (what Flower and the worker's log show of its argument) is the envelope's plain
    `repr`, cut to Celery's bound (1 kB): Celery's own `saferepr` walks the value in Python to write nearly the
    same text (it stops at three levels deep) and cost ~0.2 ms per message, an eighth of the send; an envelope
    holds only JSON values, whose `repr` is safe."""
    message = Message.from_dict(envelope)
    args = [envelope]
    argsrepr = repr(args)[: current_app.amqp.argsrepr_maxsize]
    with context_of(message.traceparent):
        current_app.send_task(
            message.type,
            args=args,
            argsrepr=argsrepr,
            kwargsrepr="{}",
            queue=message.destination,
            task_id=message.id,
            retry=False,
        )


def outbox_mark_sent(pks: Iterable[int], *, unsent_only: bool = False) -> None:
    """Mark rows sent now, one attempt more each: one UPDATE for the whole batch (none for no rows).

    `unsent_only` leaves alone a row that something else sent and marked meanwhile, so its attempts are
    not counted twice."""
    pks = list(pks)
    if not pks:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {OUTBOX_TABLE} SET sent_at = %s, attempts = attempts + 1 WHERE id = ANY(%s)"  # noqa: S608
            + (" AND sent_at IS NULL" if unsent_only else ""),
            [timezone.now(), pks],
        )


def outbox_send_committed(pk: int, envelope: dict[str, Any]) -> None:
    """Right after commit: send the row's message and mark it sent, one statement and no transaction.

    On a broker error the row stays unsent, with the error, for the relay's next sweep."""
    try:
        broker_send(envelope)
    except Exception as exc:  # the broker is down or refusing: the relay sends it later
        OutboxMessage.objects.filter(pk=pk).update(attempts=F("attempts") + 1, last_error=repr(exc)[:1000])
        logger.warning("outbox publish failed", extra={"message_type": envelope.get("type"), "error": repr(exc)})
        return
    outbox_mark_sent([pk], unsent_only=True)


def outbox_send_again(rows: Iterable[OutboxMessage]) -> int:
    """Send the given rows again as they are (same message ids, so receivers that had them ignore them).

    The rows sent are marked sent in one statement, also when a later one fails to go."""
    sent: list[int] = []
    try:
        for row in rows:
            broker_send(row.envelope)
            sent.append(row.pk)
    finally:
        outbox_mark_sent(sent)
    return len(sent)


def outbox_send_answers(message: Message) -> int:
    """Send again the reply that handling a request wrote (its contract's `reply`): a duplicate of a
    request is answered with the first reply, whose first copy may have been lost (and with it the request's
    receipt)."""
    answers = contract().spec(message.type, message.version).replies
    if not answers:
        return 0
    rows = OutboxMessage.objects.filter(caused_by=message.id, type__in=answers).order_by("id")
    return outbox_send_again(rows)
