"""Writes on payments: charge an order at most once, refund it at most once, reply to orders."""

from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone
from service_kit.exceptions import Invalid
from service_kit.messaging.outbox import outbox_enqueue

from .gateway import get_gateway
from .metrics import payment_counted
from .models import Payment, PaymentStatus


class InvalidAmount(Invalid):
    """A charge must be for more than zero."""

    default_message = "A charge must be for more than zero."


def payment_charge(
    *, order_id: UUID | str, user_id: UUID | str, amount: Decimal, currency: str, payment_method: str
) -> Payment:
    """Charge the order through the gateway unless it was charged already; the payment either way.

    The gateway is called outside any lock; the order id is its idempotency key, so a racing second
    call is answered with the first charge there, and the unique constraint keeps one row here.
    """
    if amount <= 0:
        raise InvalidAmount(field="amount")
    existing = Payment.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    result = get_gateway().charge(
        amount=amount, currency=currency, payment_method=payment_method, idempotency_key=str(order_id)
    )
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                order_id=order_id,
                user_id=user_id,
                amount=amount,
                currency=currency,
                payment_method=payment_method,
                status=PaymentStatus.SUCCEEDED if result.succeeded else PaymentStatus.DECLINED,
                gateway_reference=result.reference,
                decline_code=result.decline_code,
            )
            payment_counted(outcome=payment.status)
            return payment
    except IntegrityError:
        existing = Payment.objects.filter(order_id=order_id).first()
        if existing is None:
            raise
        return existing


@transaction.atomic
def payment_charge_and_reply(
    *, order_id: UUID | str, user_id: UUID | str, amount: Decimal, currency: str, payment_method: str
) -> Payment:
    """Charge the order at most once and reply its outcome to orders, with the payment in one transaction.

    A repeated request for the same order charges nothing and replies the stored outcome again. Run
    inside a consumer's transaction the gateway call is inside it too: should the transaction roll
    back, the retry reaches the gateway with the same idempotency key (the order id) and is answered
    with the first charge, so the card is still charged once.
    """
    payment = payment_charge(
        order_id=order_id, user_id=user_id, amount=amount, currency=currency, payment_method=payment_method
    )
    if payment.status == PaymentStatus.DECLINED:
        outbox_enqueue(
            type="orders.payment_declined",
            payload={
                "order_id": str(payment.order_id),
                "payment_id": str(payment.id),
                "decline_code": payment.decline_code,
            },
        )
    else:
        # A refunded payment was a successful charge, and the order hears that outcome.
        outbox_enqueue(
            type="orders.payment_succeeded",
            payload={
                "order_id": str(payment.order_id),
                "payment_id": str(payment.id),
                "amount": f"{payment.amount:.2f}",
            },
        )
    return payment


@transaction.atomic
def payment_refund(*, order_id: UUID | str) -> Payment | None:
    """Refund the order's succeeded payment once; a refunded one stays as it is.

    None when there is nothing to refund: no payment for the order, or a declined one. The row
    stays locked during the gateway call, so two refunds of one order cannot both reach it.
    """
    payment = Payment.objects.select_for_update().filter(order_id=order_id).first()
    if payment is None or payment.status == PaymentStatus.DECLINED:
        return None
    if payment.status == PaymentStatus.REFUNDED:
        return payment
    get_gateway().refund(reference=payment.gateway_reference, amount=payment.amount)
    payment.status = PaymentStatus.REFUNDED
    payment.refunded_at = timezone.now()
    payment.save(update_fields=["status", "refunded_at", "updated_at"])
    payment_counted(outcome=PaymentStatus.REFUNDED)
    return payment
