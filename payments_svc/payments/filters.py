"""Query parameters of the payment list."""

from service_kit.filters import StrictFilterSet

from .models import Payment


class PaymentFilter(StrictFilterSet):
    class Meta:
        model = Payment
        fields = ["status"]
