"""Test-only message handlers, registered as Celery tasks the way a service's `<app>/tasks.py` does.

Their effect is a reply through the outbox, in the consumer's transaction, as a real handler's is.
"""

from service_kit.consumer import message_handler
from service_kit.events import Message
from service_kit.outbox import outbox_enqueue
from service_kit.request_id import get_request_id

REPLY_TYPE = "kit.effect_done"


class HandlerFailed(RuntimeError):
    pass


def reply_to(message: Message) -> None:
    outbox_enqueue(type=REPLY_TYPE, payload={"for": message.id, "request_id": get_request_id()})


@message_handler("kit.test_effect")
def record_effect(message: Message) -> None:
    reply_to(message)


@message_handler("kit.test_failure")
def fail_after_effect(message: Message) -> None:
    reply_to(message)
    raise HandlerFailed("handler failed")
