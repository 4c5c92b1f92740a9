"""Input shapes of the products API: what the OpenAPI schema calls invalid is refused, not converted."""

import pytest

from inventory.serializers import (
    ProductCreateInputSerializer,
    ProductRestockInputSerializer,
    ProductUpdateInputSerializer,
)

VALID_PRODUCT = {"sku": "NEW-1", "name": "New thing", "description": "Shiny.", "price": "19.99", "stock": 7}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sku", 12),
        ("name", 0),
        ("description", 1.5),
        ("price", 19.99),
        ("price", 20),
        ("stock", "7"),
        ("stock", 7.0),
        ("stock", True),
    ],
)
def test_create_refuses_a_value_of_another_json_type(field, value):
    serializer = ProductCreateInputSerializer(data={**VALID_PRODUCT, field: value})

    assert not serializer.is_valid()
    assert serializer.errors[field][0].code == "invalid"


@pytest.mark.parametrize("price", ["", "1.", "01", "1e2", " 1.00", "1.00 ", "+1", "0.00", "12345678901"])
def test_a_price_outside_the_documented_pattern_is_refused(price):
    serializer = ProductUpdateInputSerializer(data={"price": price}, partial=True)

    assert not serializer.is_valid()
    assert "price" in serializer.errors


@pytest.mark.parametrize(("price", "stored"), [("19.99", "19.99"), ("0.01", "0.01"), (".5", "0.50"), ("7", "7.00")])
def test_a_price_in_the_documented_pattern_is_accepted(price, stored):
    serializer = ProductUpdateInputSerializer(data={"price": price}, partial=True)

    assert serializer.is_valid(), serializer.errors
    assert f"{serializer.validated_data['price']:.2f}" == stored


@pytest.mark.parametrize("quantity", ["5", 5.0, False])
def test_restock_quantity_must_be_a_json_integer(quantity):
    serializer = ProductRestockInputSerializer(data={"quantity": quantity})

    assert not serializer.is_valid()
    assert serializer.errors["quantity"][0].code == "invalid"
