"""Query parameters of the order list."""

from service_kit.filters import StrictFilterSet

from .models import Order


class OrderFilter(StrictFilterSet):
    class Meta:
        model = Order
        fields = ["status"]
