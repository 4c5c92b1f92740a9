"""The payments API as API.md describes it: scoped reads, the error envelope, pagination."""

import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/payments/"


def detail_url(payment_id) -> str:
    return f"/api/payments/{payment_id}/"


def assert_envelope(response, status: int, error_type: str, code: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["type"] == error_type
    assert body["errors"][0]["code"] == code


def test_list_shows_only_the_callers_payments_newest_first(user_client):
    older = PaymentFactory(user_id=user_client.identity.id)
    newer = PaymentFactory(user_id=user_client.identity.id)
    PaymentFactory()

    response = user_client.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [str(newer.id), str(older.id)]


def test_list_shows_staff_every_payment(staff_client):
    PaymentFactory.create_batch(3)

    response = staff_client.get(LIST_URL)

    assert response.status_code == 200
    assert response.json()["count"] == 3


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


def test_another_users_payment_is_not_found_in_the_envelope(user_client):
    payment = PaymentFactory()

    assert_envelope(user_client.get(detail_url(payment.id)), 404, "client_error", "not_found")


def test_staff_reads_any_payment(staff_client):
    payment = PaymentFactory()

    response = staff_client.get(detail_url(payment.id))

    assert response.status_code == 200
    assert response.json()["id"] == str(payment.id)


def test_unknown_payment_id_is_not_found(user_client):
    assert_envelope(user_client.get(detail_url(uuid.uuid4())), 404, "client_error", "not_found")


def test_malformed_payment_id_is_not_found_in_the_envelope(user_client):
    assert_envelope(user_client.get(detail_url("not-a-uuid")), 404, "client_error", "not_found")


@pytest.mark.parametrize("url", [LIST_URL, detail_url(uuid.uuid4())])
def test_anonymous_caller_is_refused_with_401(api_client, url):
    assert_envelope(api_client.get(url), 401, "client_error", "not_authenticated")


def test_invalid_token_is_refused_with_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert api_client.get(LIST_URL).status_code == 401


def test_page_size_is_capped_at_100(staff_client):
    PaymentFactory.create_batch(101)

    body = staff_client.get(LIST_URL, {"page_size": 1000}).json()

    assert body["count"] == 101
    assert len(body["results"]) == 100
    assert body["next"] is not None


def test_status_filter_narrows_the_list(user_client):
    PaymentFactory(user_id=user_client.identity.id)
    declined = PaymentFactory(user_id=user_client.identity.id, declined=True)

    body = user_client.get(LIST_URL, {"status": "declined"}).json()

    assert [item["id"] for item in body["results"]] == [str(declined.id)]


def test_unknown_status_filter_is_a_validation_error(user_client):
    response = user_client.get(LIST_URL, {"status": "pending"})

    assert_envelope(response, 400, "validation_error", "invalid_choice")


def test_detail_is_read_only(user_client):
    payment = PaymentFactory(user_id=user_client.identity.id)

    assert_envelope(user_client.delete(detail_url(payment.id)), 405, "client_error", "method_not_allowed")


def test_openapi_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert "/api/payments/{payment_id}/" in (tmp_path / "schema.yaml").read_text()
