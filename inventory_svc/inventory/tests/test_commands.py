"""seed_demo: creates the demo catalogue once and never resets it."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from inventory.models import Product

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_demo_products_with_stock():
    call_command("seed_demo")
    products = {p.sku: p for p in Product.objects.all()}
    assert set(products) == {"DEMO-MUG", "DEMO-TSHIRT", "DEMO-POSTER"}
    assert products["DEMO-TSHIRT"].price == Decimal("19.99")
    assert all(p.on_hand > 0 and p.reserved == 0 for p in products.values())


def test_seed_demo_twice_creates_nothing_twice_and_keeps_stock():
    call_command("seed_demo")
    Product.objects.filter(sku="DEMO-MUG").update(on_hand=7, reserved=2)
    call_command("seed_demo")
    assert Product.objects.count() == 3
    mug = Product.objects.get(sku="DEMO-MUG")
    assert (mug.on_hand, mug.reserved) == (7, 2)
