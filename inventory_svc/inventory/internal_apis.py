"""Internal endpoints of inventory, for other services' reconciliation: service tokens with a scope only.

Mounted at /internal/inventory/, which nginx never routes: only the services' own network reaches them.
"""

from rest_framework import serializers
from service_kit.internal import MAX_KEYS, InternalLookupApi, OrderIdsInputSerializer

from .models import SKU_PATTERN, Reservation, ReservationLine
from .selectors import reservations_by_order, stock_ledger


class SkusInputSerializer(serializers.Serializer):
    skus = serializers.ListField(
        child=serializers.RegexField(SKU_PATTERN, max_length=64), allow_empty=False, max_length=MAX_KEYS
    )


class ReservationLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product_id")

    class Meta:
        model = ReservationLine
        fields = ["sku", "quantity", "unit_price"]
        read_only_fields = fields


class InternalReservationSerializer(serializers.ModelSerializer):
    lines = ReservationLineSerializer(many=True)

    class Meta:
        model = Reservation
        fields = ["order_id", "status", "reject_reason", "lines", "created_at", "updated_at"]
        read_only_fields = fields


class StockLedgerSerializer(serializers.Serializer):
    sku = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    held_quantity = serializers.IntegerField()
    committed_quantity = serializers.IntegerField()


class ReservationLookupInternalApi(InternalLookupApi):
    """POST {order_ids: [...]} (at most 500) -> {results: [reservation with lines, ...]}."""

    serializer_class = OrderIdsInputSerializer
    lookup = staticmethod(reservations_by_order)
    output_serializer_class = InternalReservationSerializer


class StockLedgerInternalApi(InternalLookupApi):
    """POST {skus: [...]} (at most 500) -> {results: [{sku, on_hand, reserved, held_quantity, committed_quantity}]}."""

    serializer_class = SkusInputSerializer
    lookup = staticmethod(stock_ledger)
    output_serializer_class = StockLedgerSerializer
