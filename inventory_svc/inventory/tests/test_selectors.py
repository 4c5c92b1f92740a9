"""Reads of the catalogue."""

import pytest

from inventory import selectors

from .factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_product_list_is_ordered_by_sku_and_annotated_with_available():
    ProductFactory(sku="B", on_hand=5, reserved=2)
    ProductFactory(sku="A", on_hand=1, reserved=1)
    products = list(selectors.product_list())
    assert [(p.sku, p.available_quantity, p.available) for p in products] == [("A", 0, 0), ("B", 3, 3)]


def test_product_list_filters_on_available():
    ProductFactory(sku="A", on_hand=1, reserved=1)
    ProductFactory(sku="B", on_hand=2, reserved=1)
    assert [p.sku for p in selectors.product_list().filter(available_quantity__gt=0)] == ["B"]


def test_product_get_finds_by_sku_or_returns_none():
    ProductFactory(sku="A")
    assert selectors.product_get(sku="A").sku == "A"
    assert selectors.product_get(sku="Z") is None
