"""factory_boy factories for payments; traits give the declined and refunded states."""

import uuid
from decimal import Decimal

import factory
from django.utils import timezone

from payments.models import Payment, PaymentStatus


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order_id = factory.LazyFunction(uuid.uuid4)
    user_id = factory.LazyFunction(uuid.uuid4)
    amount = Decimal("19.99")
    payment_method = "pm_card_visa"
    status = PaymentStatus.SUCCEEDED
    gateway_reference = factory.Sequence(lambda n: f"sim_ch_{n:08d}")

    class Params:
        declined = factory.Trait(
            status=PaymentStatus.DECLINED, payment_method="pm_card_chargeDeclined", decline_code="card_declined"
        )
        refunded = factory.Trait(status=PaymentStatus.REFUNDED, refunded_at=factory.LazyFunction(timezone.now))
