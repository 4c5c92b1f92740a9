"""Handlers of the saga messages sent to inventory: check the payload, then one service call."""

import logging
from collections.abc import Callable

from service_kit.messaging.consumer import message_handler, payload_of
from service_kit.messaging.envelope import Message

from . import services
from .messages import OrderPayload, ReservePayload
from .models import Reservation

logger = logging.getLogger(__name__)


@message_handler("inventory.reserve")
def reserve_stock(message: Message) -> None:
    payload = payload_of(ReservePayload, message)
    services.stock_reserve_and_reply(
        order_id=payload["order_id"],
        lines=[(line["sku"], line["quantity"]) for line in payload["lines"]],
        correlation_id=message.correlation_id,
    )


def _reservation_settle(message: Message, settle: Callable[..., Reservation | None]) -> None:
    payload = payload_of(OrderPayload, message)
    if settle(order_id=payload["order_id"]) is None:
        # Nothing was ever reserved for the order (e.g. its reserve request was malformed): nothing to settle.
        logger.warning(
            "no reservation for order",
            extra={"message_type": message.type, "message_id": message.id, "order_id": str(payload["order_id"])},
        )


@message_handler("inventory.commit")
def commit_stock(message: Message) -> None:
    _reservation_settle(message, services.stock_commit)


@message_handler("inventory.release")
def release_stock(message: Message) -> None:
    _reservation_settle(message, services.stock_release)


@message_handler("inventory.restock")
def restock_order(message: Message) -> None:
    _reservation_settle(message, services.stock_return)
