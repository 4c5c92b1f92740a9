"""payment_list and payment_get: a customer reads only their own payments, staff reads all."""

import uuid

import pytest
from django.http import Http404
from service_kit.testing import Identity

from payments.selectors import payment_get, payment_list

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return Identity()


def test_payment_list_gives_a_customer_only_their_payments_newest_first(customer):
    older = PaymentFactory(user_id=customer.id)
    newer = PaymentFactory(user_id=customer.id)
    PaymentFactory()

    assert list(payment_list(user=customer)) == [newer, older]


def test_payment_list_gives_staff_every_payment():
    payments = PaymentFactory.create_batch(3)

    assert set(payment_list(user=Identity(is_staff=True))) == set(payments)


def test_payment_get_returns_the_callers_payment(customer):
    payment = PaymentFactory(user_id=customer.id)

    assert payment_get(payment_id=payment.id, user=customer) == payment


def test_payment_get_hides_another_users_payment(customer):
    payment = PaymentFactory()

    with pytest.raises(Http404):
        payment_get(payment_id=payment.id, user=customer)


def test_payment_get_lets_staff_read_any_payment():
    payment = PaymentFactory()

    assert payment_get(payment_id=payment.id, user=Identity(is_staff=True)) == payment


def test_payment_get_of_an_unknown_id_is_not_found(customer):
    with pytest.raises(Http404):
        payment_get(payment_id=uuid.uuid4(), user=customer)
