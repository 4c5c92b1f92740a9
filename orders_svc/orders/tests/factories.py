"""factory_boy factories for orders; traits give the states the saga reaches."""

import uuid
from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import CancelReason, Order, OrderLine, OrderStatus, OrderStatusChange


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    user_id = factory.LazyFunction(uuid.uuid4)
    payment_method = "pm_card_visa"

    class Params:
        reserved = factory.Trait(
            status=OrderStatus.RESERVED, total=Decimal("19.99"), reserved_at=factory.LazyFunction(timezone.now)
        )
        confirmed = factory.Trait(
            status=OrderStatus.CONFIRMED, total=Decimal("19.99"), reserved_at=factory.LazyFunction(timezone.now)
        )
        cancelled = factory.Trait(status=OrderStatus.CANCELLED, cancel_reason=CancelReason.OUT_OF_STOCK)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    quantity = 1


class OrderStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderStatusChange

    order = factory.SubFactory(OrderFactory)
    status = factory.SelfAttribute("order.status")
