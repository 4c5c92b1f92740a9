"""Internal endpoints of payments, for other services' reconciliation: service tokens with a scope only.

Mounted at /internal/payments/, which nginx never routes: only the services' own network reaches them.
"""

from rest_framework import serializers
from service_kit.internal import InternalLookupApi, OrderIdsInputSerializer

from .models import Payment
from .selectors import payments_by_order


class InternalPaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "order_id", "amount", "currency", "status", "refunded_at", "created_at", "updated_at"]
        read_only_fields = fields


class PaymentLookupInternalApi(InternalLookupApi):
    """POST {order_ids: [...]} (at most 500) -> {results: [payment, ...]}: every payment of those orders."""

    serializer_class = OrderIdsInputSerializer
    lookup = staticmethod(payments_by_order)
    output_serializer_class = InternalPaymentSerializer
