"""Handlers of the saga's requests to payments_svc: check the payload, call one service."""

from service_kit.messaging.consumer import message_handler, payload_of
from service_kit.messaging.envelope import Message

from .messages import ChargePayload, RefundPayload
from .services import payment_charge_and_reply, payment_refund


@message_handler("payments.charge")
def charge_order(message: Message) -> None:
    data = payload_of(ChargePayload, message)
    payment_charge_and_reply(
        order_id=data["order_id"],
        user_id=data["user_id"],
        amount=data["amount"],
        currency=data["currency"],
        payment_method=data["payment_method"],
    )


@message_handler("payments.refund")
def refund_order(message: Message) -> None:
    data = payload_of(RefundPayload, message)
    payment_refund(order_id=data["order_id"])
