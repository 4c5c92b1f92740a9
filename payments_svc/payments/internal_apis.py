"""Internal endpoints of payments, for other services' reconciliation: service tokens with a scope only.

Mounted at /internal/payments/, which nginx never routes: only the services' own network reaches them.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView
from service_kit.authentication import ServiceTokenAuthentication
from service_kit.permissions import HasScope

from .models import Payment
from .selectors import payments_by_order

RECONCILE_SCOPE = "reconcile:read"
MAX_ORDER_IDS = 500


class OrderIdsInputSerializer(serializers.Serializer):
    order_ids = serializers.ListField(child=serializers.UUIDField(), allow_empty=False, max_length=MAX_ORDER_IDS)


class InternalPaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "order_id", "amount", "currency", "status", "refunded_at", "created_at", "updated_at"]
        read_only_fields = fields


@extend_schema(exclude=True)
class PaymentLookupInternalApi(APIView):
    """POST {order_ids: [...]} (at most 500) -> {results: [payment, ...]}: every payment of those orders."""

    authentication_classes = [ServiceTokenAuthentication]
    permission_classes = [HasScope(RECONCILE_SCOPE)]

    def post(self, request):
        serializer = OrderIdsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payments = payments_by_order(order_ids=serializer.validated_data["order_ids"])
        return Response({"results": InternalPaymentSerializer(payments, many=True).data})
