"""The payments API as API.md describes it: scoped reads, the error envelope, pagination."""

from decimal import Decimal

import pytest
from service_kit.testing import CustomerResourceApiTests, assert_envelope

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/payments/"


def detail_url(payment_id) -> str:
    return f"/api/payments/{payment_id}/"


# What every customer collection promises (service_kit.testing), then what is the payment's own.
class TestPaymentReads(CustomerResourceApiTests):
    factory = PaymentFactory
    list_url = LIST_URL
    filtered_status = "declined"


def test_payment_has_the_documented_shape_with_money_as_a_string(user_client):
    payment = PaymentFactory(user_id=user_client.identity.id, amount=Decimal("27.50"))

    response = user_client.get(detail_url(payment.id))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "order_id", "amount", "currency", "status", "created_at"}
    assert body["id"] == str(payment.id)
    assert body["order_id"] == str(payment.order_id)
    assert body["amount"] == "27.50"
    assert body["currency"] == "USD"
    assert body["status"] == "succeeded"


def test_refunded_payment_shows_refunded_status(user_client):
    payment = PaymentFactory(user_id=user_client.identity.id, refunded=True)

    assert user_client.get(detail_url(payment.id)).json()["status"] == "refunded"


def test_detail_is_read_only(user_client):
    payment = PaymentFactory(user_id=user_client.identity.id)

    assert_envelope(
        user_client.delete(detail_url(payment.id)), status=405, error_type="client_error", code="method_not_allowed"
    )
