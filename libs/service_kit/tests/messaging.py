"""Helpers of the messaging tests: envelopes, unsent outbox rows, and the real Redis list of a queue."""

import base64
import json
import socket
import uuid
from typing import Any

import redis
from service_kit.messaging.envelope import Message

KIT_QUEUE = "kit"


def message(type: str = "kit.ping", payload: dict | None = None, **fields: Any) -> Message:
    return Message(type=type, payload={"n": 1} if payload is None else payload, producer="kit", **fields)


def one_way(**fields: Any) -> Message:
    """A message the contract gives no reply (kit.strict): a receipt says it arrived."""
    return message("kit.strict", payload={"order_id": str(uuid.uuid4()), "quantity": 1}, **fields)


def unsent_row(type: str = "kit.ping", payload: dict | None = None, *, seconds_ago: float = 60):
    """An outbox row as a crash between commit and publish leaves it: stored a while ago, never sent."""
    from datetime import timedelta

    from django.utils import timezone
    from service_kit.models import OutboxMessage

    sent = message(type, payload)
    row = OutboxMessage.objects.create(message_id=sent.id, type=sent.type, envelope=sent.as_dict())
    row.created_at = timezone.now() - timedelta(seconds=seconds_ago)
    row.save(update_fields=["created_at"])
    return row


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisQueue:
    """The list the Celery Redis transport pushes a queue's messages to (LPUSH, so newest first)."""

    def __init__(self, url: str, name: str = KIT_QUEUE):
        self.client = redis.Redis.from_url(url)
        self.name = name

    def clear(self) -> None:
        self.client.delete(self.name)

    def __len__(self) -> int:
        return self.client.llen(self.name)

    def messages(self) -> list[dict]:
        """Each queued task, oldest first: its name, id, headers and decoded [args, kwargs, embed] body."""
        tasks = []
        for raw in reversed(self.client.lrange(self.name, 0, -1)):
            envelope = json.loads(raw)
            args, kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
            headers = envelope["headers"]
            tasks.append({"task": headers["task"], "id": headers["id"], "headers": headers, "args": args})
            assert kwargs == {}
        return tasks
