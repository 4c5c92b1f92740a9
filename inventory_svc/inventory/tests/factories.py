"""factory_boy factories of the inventory models."""

import uuid
from decimal import Decimal

import factory

from inventory.models import Product, Reservation, ReservationLine


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    description = "A product for tests."
    price = Decimal("10.00")
    on_hand = 10
    reserved = 0


class ReservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reservation

    order_id = factory.LazyFunction(uuid.uuid4)
    status = Reservation.Status.HELD


class ReservationLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReservationLine

    reservation = factory.SubFactory(ReservationFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = factory.SelfAttribute("product.price")
