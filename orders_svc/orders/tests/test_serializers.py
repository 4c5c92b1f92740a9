"""Input shapes of the orders API: what the OpenAPI schema calls invalid is refused, not converted."""

import pytest

from orders.serializers import OrderPlaceInputSerializer


def order(**line) -> dict:
    return {"lines": [{"sku": "DEMO-MUG", "quantity": 1, **line}], "payment_method": "pm_card_visa"}


@pytest.mark.parametrize(("field", "value"), [("sku", 42), ("sku", True), ("quantity", "2"), ("quantity", True)])
def test_a_line_refuses_a_value_of_another_json_type(field, value):
    serializer = OrderPlaceInputSerializer(data=order(**{field: value}))

    assert not serializer.is_valid()
    assert serializer.errors["lines"][0][field][0].code == "invalid"


@pytest.mark.parametrize("sku", [" ", "\t\n"])
def test_a_blank_sku_is_refused(sku):
    serializer = OrderPlaceInputSerializer(data=order(sku=sku))

    assert not serializer.is_valid()
    assert serializer.errors["lines"][0]["sku"][0].code == "blank"


def test_a_whole_float_quantity_is_refused():
    serializer = OrderPlaceInputSerializer(data=order(quantity=2.0))

    assert not serializer.is_valid()
    assert serializer.errors["lines"][0]["quantity"][0].code == "invalid"
