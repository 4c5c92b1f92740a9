"""Query parameters of the payment list: a parameter sent empty is refused, not ignored."""

import pytest

from .factories import PaymentFactory

pytestmark = pytest.mark.django_db


def test_empty_status_is_a_400_envelope(user_client):
    PaymentFactory(user_id=user_client.identity.id)

    response = user_client.get("/api/payments/", {"status": ""})

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("status", "invalid_choice")]


@pytest.mark.parametrize("page_size", ["", "0", "-3", "ten", "null"])
def test_page_size_that_is_not_a_positive_whole_number_is_a_400_envelope(user_client, page_size):
    response = user_client.get("/api/payments/", {"page_size": page_size})

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("page_size", "invalid")]


def test_page_size_above_the_cap_is_served_capped(user_client):
    PaymentFactory.create_batch(3, user_id=user_client.identity.id)

    response = user_client.get("/api/payments/", {"page_size": "1000"})

    assert response.status_code == 200
    assert response.json()["count"] == 3


@pytest.mark.parametrize("page", ["", "0", "last", "x"])
def test_page_that_is_not_a_page_number_is_a_404_envelope(user_client, page):
    PaymentFactory(user_id=user_client.identity.id)

    response = user_client.get("/api/payments/", {"page": page})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
