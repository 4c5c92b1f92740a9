"""Dead letters: messages no retry can mend, kept for an operator to inspect and replay.

A message is dead-lettered with its receipt (it did arrive), so its producer stops sending it again (a reply
also acknowledges its request); a malformed envelope, with no one to answer, is kept under an id made from
its body.
"""

import hashlib
import json
import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..models import DeadLetter
from .envelope import InvalidEnvelope, Message
from .outbox import outbox_store
from .receipts import acknowledge_request, receipt_store

logger = logging.getLogger(__name__)


def malformed_message_id(envelope: Any) -> str:
    """The dead letter id of an envelope without a usable id: a hash of its body, so each malformed
    envelope has a dead letter of its own and the same one delivered again joins it."""
    body = json.dumps(envelope, sort_keys=True, default=str)
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "malformed-envelope:" + hashlib.sha256(body.encode()).hexdigest()))


def dead_letter_record(*, envelope, message_id, message_type: str, error: str) -> None:
    """Store a failed message once: a redelivered copy failing again joins the open dead letter."""
    if DeadLetter.objects.filter(message_id=message_id, type=message_type, replayed_at__isnull=True).exists():
        return
    DeadLetter.objects.create(message_id=message_id, type=message_type, envelope=envelope, error=error[:5000])


def dead_letter_now(message: Message, envelope, error: str, *, extra: dict[str, Any] | None = None) -> str:
    """Dead-letter a message with its receipt (it did arrive), in one transaction; `extra` adds to the log."""
    with transaction.atomic():
        dead_letter_record(envelope=envelope, message_id=message.id, message_type=message.type, error=error)
        receipt_store(message, dead_lettered=True)
        acknowledge_request(message)  # a reply that cannot be acted on still proves its request arrived
    logger.error(
        "message dead-lettered",
        extra={"message_type": message.type, "message_id": message.id, "error": error, **(extra or {})},
    )
    return "dead_lettered"


class Unreplayable(ValueError):
    """A dead letter whose envelope can never be read: replaying it cannot help, so it was closed."""


def dead_letter_replay(*, dead_letter: DeadLetter) -> None:
    """Send a dead-lettered message again, through this service's outbox.

    Its receipt goes to the message's producer, not to this service, so the row expects none: the relay
    would otherwise send it again and again. An envelope that can never be read is not sent: the dead
    letter is closed with the reason, and Unreplayable says so."""
    try:
        message = Message.from_dict(dead_letter.envelope)
    except InvalidEnvelope as exc:
        resolution = f"not replayable: the envelope can never be read ({exc})"
        DeadLetter.objects.filter(pk=dead_letter.pk).update(replayed_at=timezone.now(), resolution=resolution[:300])
        raise Unreplayable(resolution) from exc
    with transaction.atomic():
        outbox_store(message, expects_receipt=False)
        DeadLetter.objects.filter(pk=dead_letter.pk).update(replayed_at=timezone.now(), resolution="replayed")
