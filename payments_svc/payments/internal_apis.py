"""Internal endpoints of payments, for other services' reconciliation: service tokens with a scope only.

Mounted at /internal/payments/, which nginx never routes: only the services' own network reaches them.
"""

from rest_framework import serializers
from rest_framework.response import Response
from service_kit.internal import InternalApi, OrderIdsInputSerializer

from .models import Payment
from .selectors import payments_by_order


class InternalPaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "order_id", "amount", "currency", "status", "refunded_at", "created_at", "updated_at"]
        read_only_fields = fields


class PaymentLookupInternalApi(InternalApi):
    """POST {order_ids: [...]} (at most 500) -> {results: [payment, ...]}: every payment of those orders."""

    serializer_class = OrderIdsInputSerializer

    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payments = payments_by_order(order_ids=serializer.validated_data["order_ids"])
        return Response({"results": InternalPaymentSerializer(payments, many=True).data})
