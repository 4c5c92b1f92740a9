"""Orders and payments through the gateway: a user sees only their own."""

import uuid

from .helpers import assert_envelope

ORDERS = "/api/orders/"


def test_new_user_has_no_orders(user_api):
    response = user_api.get(ORDERS)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 0
    assert body["results"] == []


def test_order_that_is_not_the_users_is_404_envelope(user_api):
    response = user_api.get(f"{ORDERS}{uuid.uuid4()}/")

    assert_envelope(response, 404, "client_error")


def test_malformed_order_id_is_404_envelope(user_api):
    assert_envelope(user_api.get(f"{ORDERS}not-a-uuid/"), 404, "client_error")


def test_anonymous_orders_list_is_401(api):
    assert_envelope(api.get(ORDERS), 401, "client_error")


def test_new_user_has_no_payments(user_api):
    response = user_api.get("/api/payments/")

    assert response.status_code == 200, response.text
    assert response.json()["results"] == []


def test_payment_that_is_not_the_users_is_404_envelope(user_api):
    assert_envelope(user_api.get(f"/api/payments/{uuid.uuid4()}/"), 404, "client_error")
