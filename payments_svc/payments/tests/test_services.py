"""payment_charge and payment_refund: each happens at most once per order; the reply goes with the charge."""

import uuid
from decimal import Decimal

import pytest

from payments.gateway import ChargeResult, SimulatedCardGateway
from payments.models import Payment, PaymentStatus
from payments.services import InvalidAmount, payment_charge, payment_charge_and_reply, payment_refund

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db


def charge(**overrides) -> Payment:
    arguments = {
        "order_id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "amount": Decimal("27.50"),
        "currency": "USD",
        "payment_method": "pm_card_visa",
        **overrides,
    }
    return payment_charge(**arguments)


class RacingGateway(SimulatedCardGateway):
    """While the charge is in flight, another worker stores the payment of the same order first."""

    def charge(self, **kwargs) -> ChargeResult:
        PaymentFactory(order_id=kwargs["idempotency_key"], gateway_reference="sim_ch_winner")
        return super().charge(**kwargs)


def test_successful_charge_stores_a_succeeded_payment(gateway):
    order_id, user_id = uuid.uuid4(), uuid.uuid4()

    payment = charge(order_id=order_id, user_id=user_id)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert (payment.order_id, payment.user_id) == (order_id, user_id)
    assert payment.amount == Decimal("27.50")
    assert payment.currency == "USD"
    assert payment.gateway_reference.startswith("sim_ch_")
    assert payment.decline_code == ""
    assert gateway.charges == [
        {
            "amount": Decimal("27.50"),
            "currency": "USD",
            "payment_method": "pm_card_visa",
            "idempotency_key": str(order_id),
        }
    ]


@pytest.mark.parametrize(
    ("payment_method", "decline_code"),
    [("pm_card_chargeDeclined", "card_declined"), ("pm_card_bogus", "invalid_payment_method")],
)
def test_declined_charge_stores_a_declined_payment_with_its_code(payment_method, decline_code):
    payment = charge(payment_method=payment_method)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.DECLINED
    assert payment.decline_code == decline_code


def test_second_charge_of_an_order_returns_the_first_payment_without_calling_the_gateway(gateway):
    order_id = uuid.uuid4()
    first = charge(order_id=order_id)

    again = charge(order_id=order_id, amount=Decimal("99.00"))

    assert again.id == first.id
    assert again.amount == Decimal("27.50")
    assert len(gateway.charges) == 1
    assert Payment.objects.filter(order_id=order_id).count() == 1


def test_declined_order_is_not_charged_again(gateway):
    order_id = uuid.uuid4()
    charge(order_id=order_id, payment_method="pm_card_chargeDeclined")

    again = charge(order_id=order_id, payment_method="pm_card_visa")

    assert again.status == PaymentStatus.DECLINED
    assert len(gateway.charges) == 1


def test_charge_losing_a_race_returns_the_payment_stored_first(settings):
    settings.PAYMENTS_GATEWAY = f"{__name__}.RacingGateway"
    order_id = uuid.uuid4()

    payment = charge(order_id=order_id)

    assert payment.gateway_reference == "sim_ch_winner"
    assert Payment.objects.filter(order_id=order_id).count() == 1


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-1.00")])
def test_charge_of_nothing_is_refused_before_reaching_the_gateway(gateway, amount):
    with pytest.raises(InvalidAmount):
        charge(amount=amount)
    assert gateway.charges == []
    assert Payment.objects.count() == 0


def test_refund_of_a_succeeded_payment_marks_it_refunded(gateway):
    payment = PaymentFactory()

    refunded = payment_refund(order_id=payment.order_id)

    payment.refresh_from_db()
    assert refunded.id == payment.id
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunded_at is not None
    assert gateway.refunds == [{"reference": payment.gateway_reference, "amount": payment.amount}]


def test_second_refund_changes_nothing_and_does_not_call_the_gateway(gateway):
    payment = PaymentFactory()
    first = payment_refund(order_id=payment.order_id)

    second = payment_refund(order_id=payment.order_id)

    assert second.id == first.id
    assert second.status == PaymentStatus.REFUNDED
    assert second.refunded_at == first.refunded_at
    assert len(gateway.refunds) == 1


def test_refund_of_a_declined_payment_is_a_no_op(gateway):
    payment = PaymentFactory(declined=True)

    assert payment_refund(order_id=payment.order_id) is None
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.DECLINED
    assert gateway.refunds == []


def test_refund_of_an_order_without_payment_is_a_no_op(gateway):
    assert payment_refund(order_id=uuid.uuid4()) is None
    assert gateway.refunds == []


def charge_and_reply(**overrides) -> Payment:
    arguments = {
        "order_id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "amount": Decimal("27.5"),
        "currency": "USD",
        "payment_method": "pm_card_visa",
        **overrides,
    }
    return payment_charge_and_reply(**arguments)


def test_charge_and_reply_stores_the_payment_and_its_success_reply_together(gateway, outbox):
    payment = charge_and_reply()

    assert outbox() == [
        (
            "orders.payment_succeeded",
            {"order_id": str(payment.order_id), "payment_id": str(payment.id), "amount": "27.50"},
        )
    ]


def test_charge_and_reply_of_a_refunded_payment_replies_the_charge_succeeded(gateway, outbox):
    payment = PaymentFactory(refunded=True)

    charge_and_reply(order_id=payment.order_id)

    assert [message_type for message_type, _ in outbox()] == ["orders.payment_succeeded"]
    assert gateway.charges == []


def test_charge_and_reply_refused_for_nothing_stores_and_sends_nothing(gateway, outbox):
    with pytest.raises(InvalidAmount):
        charge_and_reply(amount=Decimal("0.00"))
    assert Payment.objects.count() == 0
    assert outbox() == []
