"""Handlers of the saga's replies to orders_svc: check the payload, call one service."""

from service_kit.messaging.consumer import message_handler, payload_of
from service_kit.messaging.envelope import Message

from .messages import PaymentDeclinedPayload, PaymentSucceededPayload, StockRejectedPayload, StockReservedPayload
from .services import order_mark_declined, order_mark_paid, order_mark_rejected, order_mark_reserved


@message_handler("orders.stock_reserved")
def reserve_order(message: Message) -> None:
    data = payload_of(StockReservedPayload, message)
    order_mark_reserved(order_id=data["order_id"], lines=data["lines"], total=data["total"], currency=data["currency"])


@message_handler("orders.stock_rejected")
def reject_order(message: Message) -> None:
    data = payload_of(StockRejectedPayload, message)
    order_mark_rejected(order_id=data["order_id"], reason=data["reason"])


@message_handler("orders.payment_succeeded")
def confirm_order(message: Message) -> None:
    data = payload_of(PaymentSucceededPayload, message)
    order_mark_paid(order_id=data["order_id"])


@message_handler("orders.payment_declined")
def decline_order(message: Message) -> None:
    data = payload_of(PaymentDeclinedPayload, message)
    order_mark_declined(order_id=data["order_id"])
