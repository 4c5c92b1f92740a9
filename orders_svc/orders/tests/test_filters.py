"""Query parameters of the order list: a parameter sent empty is refused, not ignored."""

import pytest

from .factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_empty_status_is_a_400_envelope(user_client):
    OrderFactory(user_id=user_client.identity.id)

    response = user_client.get("/api/orders/", {"status": ""})

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("status", "invalid_choice")]


@pytest.mark.parametrize("page_size", ["0", "abc", "null"])
def test_page_size_that_is_not_a_positive_whole_number_is_a_400_envelope(user_client, page_size):
    response = user_client.get("/api/orders/", {"page_size": page_size})

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("page_size", "invalid")]
