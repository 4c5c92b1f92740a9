"""The saga's requests to payments, through the idempotent consumer: charge once, refund once, reply."""

import uuid
from decimal import Decimal

import pytest
from celery import current_app
from service_kit.messaging.consumer import process_once
from service_kit.messaging.envelope import Message
from service_kit.models import OutboxMessage, ProcessedMessage
from service_kit.testing import consume_now, dead_letter_errors

from payments.handlers import charge_order, refund_order
from payments.models import Payment, PaymentStatus

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db


def charge_payload(**overrides) -> dict:
    return {
        "order_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "amount": "27.50",
        "currency": "USD",
        "payment_method": "pm_card_visa",
        **overrides,
    }


def message(task, payload: dict) -> Message:
    return Message(type=task.name, payload=payload, producer="orders", correlation_id="req-1")


def deliver(task, payload: dict) -> bool:
    return process_once(task.handler, message(task, payload))


def test_handlers_are_celery_tasks_named_by_their_message_type():
    assert (charge_order.name, refund_order.name) == ("payments.charge", "payments.refund")
    assert current_app.tasks["payments.charge"].handler is charge_order.handler
    assert current_app.tasks["payments.refund"].handler is refund_order.handler


def test_charge_that_succeeds_stores_the_payment_and_replies_success(gateway, outbox):
    payload = charge_payload()

    assert deliver(charge_order, payload)

    payment = Payment.objects.get()
    assert str(payment.order_id) == payload["order_id"]
    assert str(payment.user_id) == payload["user_id"]
    assert payment.amount == Decimal("27.50")
    assert payment.status == PaymentStatus.SUCCEEDED
    assert outbox() == [
        (
            "orders.payment_succeeded",
            {"order_id": payload["order_id"], "payment_id": str(payment.id), "amount": "27.50"},
        )
    ]
    assert len(gateway.charges) == 1


def test_reply_carries_the_correlation_id_of_the_charge_message(gateway):
    charge = message(charge_order, charge_payload())

    assert charge_order.apply(args=[charge.as_dict()]).get() == "processed"

    envelope = OutboxMessage.objects.get(type="orders.payment_succeeded").envelope
    assert envelope["correlation_id"] == "req-1"
    assert envelope["producer"] == "payments"


def test_charge_that_is_declined_stores_the_payment_and_replies_declined(gateway, outbox):
    payload = charge_payload(payment_method="pm_card_chargeDeclined")

    deliver(charge_order, payload)

    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.DECLINED
    assert outbox() == [
        (
            "orders.payment_declined",
            {"order_id": payload["order_id"], "payment_id": str(payment.id), "decline_code": "card_declined"},
        )
    ]


def test_second_delivery_of_a_charge_changes_nothing(gateway, outbox):
    charge = message(charge_order, charge_payload())

    assert process_once(charge_order.handler, charge)
    assert not process_once(charge_order.handler, charge)

    assert Payment.objects.count() == 1
    assert len(outbox()) == 1
    assert len(gateway.charges) == 1


@pytest.mark.parametrize("payment_method", ["pm_card_visa", "pm_card_chargeDeclined"])
def test_another_charge_for_the_same_order_replies_the_stored_outcome_without_charging(gateway, outbox, payment_method):
    payload = charge_payload(payment_method=payment_method)
    deliver(charge_order, payload)

    deliver(charge_order, {**payload, "amount": "99.00", "payment_method": "pm_card_visa"})

    payment = Payment.objects.get()
    assert payment.amount == Decimal("27.50")
    first, second = outbox()
    assert first == second
    assert first[1]["payment_id"] == str(payment.id)
    assert len(gateway.charges) == 1


def test_charge_the_gateway_cannot_take_leaves_nothing_behind_so_a_retry_can(settings, outbox):
    settings.PAYMENTS_GATEWAY = "payments.tests.gateways.UnreachableGateway"

    with pytest.raises(ConnectionError):
        deliver(charge_order, charge_payload())

    assert Payment.objects.count() == 0
    assert ProcessedMessage.objects.count() == 0
    assert outbox() == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": "0.00"},
        {"amount": "-5.00"},
        {"amount": "27.505"},
        {"amount": "lots"},
        {"amount": None},
        {"order_id": "not-a-uuid"},
        {"user_id": "42"},
        {"currency": "dollars"},
        {"payment_method": None},
        {"payment_method": ["pm_card_visa"]},
    ],
)
def test_malformed_charge_is_dead_lettered_without_charging_or_replying(gateway, outbox, overrides):
    assert consume_now(charge_order, charge_payload(**overrides), producer="orders") == "dead_lettered"

    assert Payment.objects.count() == 0
    assert outbox() == []
    assert gateway.charges == []
    [error] = dead_letter_errors()
    # The contract refuses it, or (a zero amount) the handler's stricter reading does.
    assert "payload breaks the contract" in error or "refused by its handler" in error, error


def test_charge_without_an_amount_is_dead_lettered_without_charging(gateway, outbox):
    payload = charge_payload()
    del payload["amount"]

    assert consume_now(charge_order, payload, producer="orders") == "dead_lettered"

    assert gateway.charges == []
    assert outbox() == []
    assert '"amount" is a required property' in dead_letter_errors()[0]


def test_refund_refunds_the_orders_payment_once(gateway, outbox):
    payment = PaymentFactory()

    deliver(refund_order, {"order_id": str(payment.order_id)})
    deliver(refund_order, {"order_id": str(payment.order_id)})

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert len(gateway.refunds) == 1
    assert outbox() == []


def test_refund_of_a_declined_payment_changes_nothing(gateway):
    payment = PaymentFactory(declined=True)

    deliver(refund_order, {"order_id": str(payment.order_id)})

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.DECLINED
    assert gateway.refunds == []


def test_refund_for_an_unknown_order_is_consumed_without_effect(gateway, outbox):
    assert deliver(refund_order, {"order_id": str(uuid.uuid4())})

    assert gateway.refunds == []
    assert outbox() == []


@pytest.mark.parametrize("payload", [{"order_id": "nope"}, {}])
def test_malformed_refund_is_dead_lettered_without_effect(gateway, outbox, payload):
    assert consume_now(refund_order, payload, producer="orders") == "dead_lettered"

    assert gateway.refunds == []
    assert outbox() == []
    assert "payload breaks the contract" in dead_letter_errors()[0]


@pytest.mark.django_db(transaction=True)
def test_reply_is_committed_with_the_payment_and_published_after_it(gateway):
    deliver(charge_order, charge_payload())

    assert Payment.objects.count() == 1
    row = OutboxMessage.objects.get()
    assert row.type == "orders.payment_succeeded"
    assert row.attempts == 1
