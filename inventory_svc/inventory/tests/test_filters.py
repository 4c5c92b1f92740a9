"""Query parameters of the product list: a parameter sent empty is refused, not ignored."""

import pytest

from .factories import ProductFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/inventory/products/"


def test_empty_in_stock_is_a_400_envelope(api_client):
    ProductFactory(sku="FULL", on_hand=3)

    response = api_client.get(PRODUCTS, {"in_stock": ""})

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [(error["attr"], error["code"]) for error in body["errors"]] == [("in_stock", "invalid_choice")]


@pytest.mark.parametrize("page_size", ["", "0", "-1", "abc", "null", "2.5"])
def test_page_size_that_is_not_a_positive_whole_number_is_a_400_envelope(api_client, page_size):
    response = api_client.get(PRODUCTS, {"page_size": page_size})

    assert response.status_code == 400
    assert [(error["attr"], error["code"]) for error in response.json()["errors"]] == [("page_size", "invalid")]
