"""Test-only message handlers, registered as Celery tasks the way a service's `<app>/handlers.py` does.

Their effect is a reply through the outbox, in the consumer's transaction, as a real handler's is.
"""

from rest_framework import serializers
from service_kit.messaging.consumer import message_handler, payload_of
from service_kit.messaging.envelope import Message
from service_kit.messaging.outbox import outbox_enqueue
from service_kit.request_id import get_request_id

REPLY_TYPE = "kit.effect_done"


class HandlerFailed(RuntimeError):
    pass


def reply_to(message: Message) -> None:
    outbox_enqueue(type=REPLY_TYPE, payload={"for": message.id, "request_id": get_request_id()})


@message_handler("kit.test_effect")
def record_effect(message: Message) -> None:
    reply_to(message)


@message_handler("kit.effect_done")
def effect_done(message: Message) -> None:
    handled.append(message.payload)


@message_handler("kit.test_failure")
def fail_after_effect(message: Message) -> None:
    reply_to(message)
    raise HandlerFailed("handler failed")


# What the contract-checked handlers below were given, in order (cleared by the tests).
handled: list[dict] = []


@message_handler("kit.strict")
def strict_handler(message: Message) -> None:
    handled.append(message.payload)


class QuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField()


@message_handler("kit.ping")
def picky_handler(message: Message) -> None:
    handled.append(payload_of(QuantitySerializer, message))
